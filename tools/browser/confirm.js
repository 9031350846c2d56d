#!/usr/bin/env node
// A person in a real browser: opens the verification URL it is given in Debian's headless
// Chromium, presses Confirm (or Deny), and waits for the page to say it is done.
//
// Usage (as $BROWSER for `datagen auth login`): node confirm.js [--deny] URL
// Environment: CHROMIUM (default /usr/bin/chromium); CONFIRM_SCREENSHOT, a PNG path to save
// the page after the click; CONFIRM_LOG, a file to append what it did to.
'use strict';
const fs = require('fs');
const { chromium } = require('playwright-core');

function log(line) {
  if (process.env.CONFIRM_LOG) fs.appendFileSync(process.env.CONFIRM_LOG, line + '\n');
}

async function main() {
  const args = process.argv.slice(2);
  const deny = args[0] === '--deny';
  const url = deny ? args[1] : args[0];
  if (!url) throw new Error('usage: confirm.js [--deny] URL');
  // playwright-core gives Chromium a new, empty profile of its own.
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    // This machine has no network beyond loopback: keep Chromium from calling home.
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const page = await browser.newPage();
    await page.goto(url, { timeout: 20000 });
    const code = await page.inputValue('#user_code');
    log(`opened ${url}; code field holds ${code}`);
    await page.click(deny ? '#deny' : '#confirm');
    const heading = await page.textContent('#done', { timeout: 20000 });
    log(`clicked ${deny ? 'Deny' : 'Confirm'}; page says: ${heading}`);
    if (process.env.CONFIRM_SCREENSHOT) {
      await page.screenshot({ path: process.env.CONFIRM_SCREENSHOT });
      log('screenshot saved');
    }
  } finally {
    await browser.close();
  }
}

main().catch((error) => {
  log(`failed: ${error.message}`);
  process.exit(1);
});
