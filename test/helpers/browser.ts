/**
 * A real Chromium for browser tests without a system install: the binary
 * shipped inside the `@sparticuz/chromium` npm package (unpacked to the temp
 * dir on first use), driven by playwright-core. A system Chromium is the
 * fallback, used only when the packaged one cannot start.
 *
 * DBSWATCH_TEST_SYSTEM_CHROMIUM overrides the fallback's path (point it at a
 * missing file to prove the packaged browser suffices);
 * DBSWATCH_TEST_BROWSER=system skips the packaged browser (to prove the fallback).
 */
import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

/** Flags that would weaken what the tests check (same-origin policy, mixed content): never passed. */
const WEAKENING = new Set(['--disable-web-security', '--allow-running-insecure-content']);
/**
 * Flags of the packaged build meant for one-shot serverless use: with `--single-process` (and
 * `--no-zygote`) closing a browser context can take the whole browser down, and the tests open several.
 */
const ONE_SHOT = new Set(['--single-process', '--no-zygote']);

const SYSTEM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface LaunchedBrowser {
  readonly browser: Browser;
  /** `@sparticuz/chromium <version>` or the system path, for the test log. */
  readonly source: string;
}

export async function launchChromium(env: NodeJS.ProcessEnv = process.env): Promise<LaunchedBrowser> {
  let packagedProblem = 'skipped (DBSWATCH_TEST_BROWSER=system)';
  if (env.DBSWATCH_TEST_BROWSER !== 'system') {
    try {
      const { default: packaged } = await import('@sparticuz/chromium');
      const executablePath = await packaged.executablePath();
      const args = [
        ...packaged.args.filter((arg) => !WEAKENING.has(arg) && !ONE_SHOT.has(arg)),
        '--disable-background-networking',
        '--disable-component-update',
      ];
      const browser = await chromium.launch({ executablePath, args });
      return { browser, source: `@sparticuz/chromium ${browser.version()}` };
    } catch (error) {
      packagedProblem = error instanceof Error ? (error.message.split('\n')[0] ?? error.message) : String(error);
    }
  }
  const system = env.DBSWATCH_TEST_SYSTEM_CHROMIUM ?? '/usr/bin/chromium';
  if (!existsSync(system)) {
    throw new Error(
      `no browser: the packaged Chromium (@sparticuz/chromium) could not start (${packagedProblem}) and there is no system Chromium at ${system}`,
    );
  }
  const browser = await chromium.launch({ executablePath: system, args: SYSTEM_ARGS });
  return { browser, source: `${system} ${browser.version()}` };
}
