/**
 * Channel registry: one factory per channel kind in a
 * `Record<ChannelKind, …>`, so adding a kind to the config without a
 * factory fails to compile. `ChannelPool` creates channels lazily from the
 * *current* config (a reload changes a webhook without a restart).
 */
import type { ChannelConfig, ChannelKind, Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { Channel } from './channel.js';
import { createDingtalkChannel } from './dingtalk.js';
import { createEmailChannel } from './email.js';
import { createFeishuChannel } from './feishu.js';
import { createSlackChannel } from './slack.js';
import { createTeamsChannel } from './teams.js';
import { createWebhookChannel } from './webhook.js';
import { createWecomChannel } from './wecom.js';

export interface ChannelDeps {
  readonly log?: Logger;
}

type Factories = {
  readonly [K in ChannelKind]: (config: Extract<ChannelConfig, { type: K }>, deps: ChannelDeps) => Channel;
};

const factories: Factories = {
  slack: (config) => createSlackChannel(config),
  email: (config) => createEmailChannel(config),
  webhook: (config) => createWebhookChannel(config),
  dingtalk: (config) => createDingtalkChannel(config),
  feishu: (config) => createFeishuChannel(config),
  wecom: (config) => createWecomChannel(config),
  teams: (config) => createTeamsChannel(config),
};

export function createChannel(config: ChannelConfig, deps: ChannelDeps = {}): Channel {
  const factory = factories[config.type] as (config: ChannelConfig, deps: ChannelDeps) => Channel;
  return factory(config, deps);
}

/** Lazily created channels, keyed by name, rebuilt when that channel's config changes. */
export class ChannelPool {
  private readonly open = new Map<string, { readonly key: string; readonly channel: Channel }>();

  constructor(
    private readonly config: () => Config,
    private readonly log?: Logger,
    private readonly create: (config: ChannelConfig, deps: ChannelDeps) => Channel = createChannel,
  ) {}

  /** The channel as currently configured, or undefined when it is no longer in the config. */
  get(name: string): Channel | undefined {
    const channelConfig = this.config().channels[name];
    const existing = this.open.get(name);
    if (!channelConfig) {
      if (existing) this.retire(name, existing.channel);
      return undefined;
    }
    // Compare by content: a reload yields new objects even when nothing changed.
    const key = JSON.stringify(channelConfig);
    if (existing && existing.key === key) return existing.channel;
    if (existing) this.retire(name, existing.channel);
    const channel = this.create(channelConfig, this.log ? { log: this.log } : {});
    this.open.set(name, { key, channel });
    return channel;
  }

  /** Drops every channel (after a config reload); they are recreated on next use. */
  reset(): void {
    for (const [name, entry] of [...this.open]) this.retire(name, entry.channel);
  }

  /** Closes every open channel. The pool stays usable (channels are recreated lazily). */
  async close(): Promise<void> {
    const channels = [...this.open.values()].map((entry) => entry.channel);
    this.open.clear();
    await Promise.allSettled(channels.map((channel) => channel.close()));
  }

  private retire(name: string, channel: Channel): void {
    this.open.delete(name);
    // A send caught in flight on a closed SMTP pool fails as retryable and is retried with the new channel.
    channel.close().catch((error: unknown) => this.log?.warn({ err: error, channel: name }, 'closing a channel failed'));
  }
}
