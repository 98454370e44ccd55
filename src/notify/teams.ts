/**
 * The Microsoft Teams channel, for a Workflows ("When a Teams webhook
 * request is received") webhook. Checked against "Create and send messages"
 * (https://learn.microsoft.com/en-us/microsoftteams/platform/webhooks-and-connectors/how-to/connectors-using)
 * and "Create Incoming Webhooks"
 * (https://learn.microsoft.com/en-us/microsoftteams/platform/webhooks-and-connectors/how-to/add-incoming-webhook):
 * the URL carries its own signature (`sig=` query parameter) — no signing
 * of ours; the body is a `message` with one Adaptive Card attachment;
 * success is 200/202; more than 4 requests a second are throttled (429,
 * maybe with Retry-After); a message is at most 28 KB (413 beyond). A
 * deleted or disabled flow answers 404 / 401 / 403: permanent.
 * Rate limit: 4/s per webhook (rate-limits.ts). Rendering: teams-render.ts.
 */
import type { TeamsChannelConfig } from '../config.js';
import type { Channel } from './channel.js';
import { createHttpChannel, type HttpPlatform } from './chat-http.js';
import { renderTeamsWatchdog } from './chat-watchdog.js';
import { renderTeams, type TeamsMessage } from './teams-render.js';

export const TEAMS_STATUSES: Readonly<Record<number, string>> = {
  400: 'Teams rejected the card (a dbswatch bug: please report it)',
  401: 'the workflow refused the signature of the URL',
  403: 'the workflow is not allowed to post (disabled, or its owner lost access)',
  404: 'the workflow was deleted or turned off',
  413: 'the message was larger than 28 KB (a dbswatch bug: please report it)',
};

export const TEAMS_RATE_LIMIT_WAIT_MS = 5_000;

export function teamsPlatform(config: TeamsChannelConfig): HttpPlatform<TeamsMessage> {
  return {
    kind: 'teams',
    label: 'Teams',
    codes: {},
    statuses: TEAMS_STATUSES,
    rateLimitWaitMs: TEAMS_RATE_LIMIT_WAIT_MS,
    request: (message) => ({ url: config.webhookUrl, body: JSON.stringify(message.body) }),
  };
}

export function createTeamsChannel(config: TeamsChannelConfig): Channel<TeamsMessage> {
  return createHttpChannel(config, teamsPlatform(config), renderTeams, renderTeamsWatchdog);
}
