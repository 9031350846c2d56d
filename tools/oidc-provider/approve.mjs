#!/usr/bin/env node
// A person at oidc-provider's verification page, over plain HTTP with a cookie jar: opens the
// URL it is given, submits each page's form as a person would (the user code, "Continue", a
// login with any name and password, the consent) and stops at "Sign-in Success".
//
// Usage (as $BROWSER for `datagen auth login`): node approve.mjs URL
// Environment: APPROVE_LOG, a file to append what it did to (never a cookie or a token).

import fs from 'node:fs';

function log(line) {
  if (process.env.APPROVE_LOG) fs.appendFileSync(process.env.APPROVE_LOG, `${line}\n`);
}

const jar = new Map();

function keepCookies(response) {
  for (const header of response.headers.getSetCookie()) {
    const [pair] = header.split(';');
    const at = pair.indexOf('=');
    jar.set(pair.slice(0, at).trim(), pair.slice(at + 1));
  }
}

function cookieHeader() {
  return [...jar].map(([name, value]) => `${name}=${value}`).join('; ');
}

function attribute(tag, name) {
  const match = tag.match(new RegExp(`\\b${name}="([^"]*)"`));
  return match ? match[1].replace(/&amp;/g, '&').replace(/&#x2F;/g, '/').replace(/&quot;/g, '"') : undefined;
}

// The first form of the page: where it posts, and the fields a person would send.
function formOf(html, base) {
  const form = html.match(/<form\b([^>]*)>([\s\S]*?)<\/form>/);
  if (!form) return null;
  const fields = new URLSearchParams();
  for (const [tag] of form[2].matchAll(/<input\b[^>]*>/g)) {
    const name = attribute(tag, 'name');
    if (!name) continue;
    const value = attribute(tag, 'value');
    if (name === 'login') fields.set(name, 'you');
    else if (name === 'password') fields.set(name, 'any password');
    else fields.set(name, value ?? '');
  }
  return { action: new URL(attribute(form[1], 'action'), base).href, fields };
}

async function fetchFollowing(url, init) {
  let response = await fetch(url, { ...init, redirect: 'manual', headers: { ...init.headers, cookie: cookieHeader() } });
  keepCookies(response);
  for (let hops = 0; response.status >= 300 && response.status < 400; hops += 1) {
    if (hops > 10) throw new Error('too many redirects');
    url = new URL(response.headers.get('location'), url).href;
    response = await fetch(url, { redirect: 'manual', headers: { cookie: cookieHeader() } });
    keepCookies(response);
  }
  return { url, status: response.status, html: await response.text() };
}

async function main() {
  const url = process.argv[2];
  if (!url) throw new Error('usage: approve.mjs URL');
  let page = await fetchFollowing(url, { method: 'GET', headers: {} });
  for (let step = 0; step < 8; step += 1) {
    const title = (page.html.match(/<title>([^<]*)<\/title>/) || [])[1] || '';
    log(`page ${step}: ${page.status} ${title}`);
    if (title === 'Sign-in Success') return;
    const form = formOf(page.html, page.url);
    if (!form) throw new Error(`no form on "${title}" (${page.status})`);
    page = await fetchFollowing(form.action, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form.fields.toString(),
    });
  }
  throw new Error('the sign-in did not finish in 8 pages');
}

main().then(() => log('approved'), (error) => {
  log(`failed: ${error.message}`);
  process.exit(1);
});
