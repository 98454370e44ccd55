/**
 * `dbswatch test-notify CHANNEL`: sends a realistic sample through the real
 * channel (no queue, no delivery guard) and reports the exact reason when it
 * fails, so an operator can check a webhook or SMTP setup in one command.
 */
import { Option } from 'commander';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { DeliveryError } from '../notify/channel.js';
import { createChannel } from '../notify/registry.js';
import { sampleNotification } from '../notify/sample.js';
import { stripUrlQueries } from '../secrets.js';
import { configOrExit, makeLogger, type RegisterCommand } from './context.js';

export type TestNotifyResult = { ok: true } | { ok: false; reason: string };

export async function testNotify(config: Config, channelName: string, event: 'finished' | 'failed', log: Logger): Promise<TestNotifyResult> {
  const channelConfig = config.channels[channelName];
  if (!channelConfig) {
    const known = Object.keys(config.channels).join(', ') || 'none defined';
    return { ok: false, reason: `no channel "${channelName}" in ${config.source} (channels: ${known})` };
  }
  const channel = createChannel(channelConfig, { log });
  try {
    const notification = sampleNotification(event, channelName, { planName: 'dbswatch test-notify (sample)' });
    for (const message of channel.render([notification])) await channel.send(message);
    log.info({ channel: channelName, type: channelConfig.type, event }, 'test notification sent');
    return { ok: true };
  } catch (error) {
    // DeliveryError messages are written for operators and hold no secret; anything else is summarised.
    const reason =
      error instanceof DeliveryError ? error.message : `unexpected error: ${error instanceof Error ? stripUrlQueries(error.message) : String(error)}`;
    log.warn({ channel: channelName, type: channelConfig.type, event, reason }, 'test notification failed');
    return { ok: false, reason };
  } finally {
    await channel.close();
  }
}

export const registerTestNotify: RegisterCommand = (program, cli) => {
  program
    .command('test-notify')
    .description('send a realistic sample notification through one channel and report the result')
    .addHelpText(
      'after',
      `
Examples:
  dbswatch test-notify ops-slack
  dbswatch test-notify dba-email --event failed`,
    )
    .argument('<channel>', 'channel name from the config')
    .addOption(new Option('--event <event>', 'which sample to send').choices(['finished', 'failed']).default('finished'))
    .action(async (channel: string, opts: { event: 'finished' | 'failed' }) => {
      const { config } = configOrExit(cli);
      const log = makeLogger(cli);
      if (!config.channels[channel]) {
        process.stderr.write(`unknown channel "${channel}" (channels: ${Object.keys(config.channels).join(', ') || 'none'})\n`);
        process.exitCode = 2;
        return;
      }
      const result = await testNotify(config, channel, opts.event, log);
      if (result.ok) process.stdout.write(`sent a sample "${opts.event}" notification to ${channel}\n`);
      else process.stderr.write(`sending to ${channel} failed: ${result.reason}\n`);
      process.exitCode = result.ok ? 0 : 1;
    });
};
