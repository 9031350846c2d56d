#!/usr/bin/env node
// A certified OpenID provider (panva's oidc-provider, from the npm registry) as an identity
// server that nothing in this project wrote: the device flow (RFC 8628), refresh with rotation
// and reuse detection (a rotated refresh token presented again revokes the whole grant),
// revocation (RFC 7009) and userinfo, on 127.0.0.1 only. Tests run two of them as two issuers.
//
// Usage: node issuer.mjs PORT_FILE [--access-ttl SECONDS] [--email EMAIL] [--orgs SLUG:ROLE,...]
//   Listens on an ephemeral loopback port and writes it to PORT_FILE once it serves.
//   --access-ttl  lifetime of access tokens (default 3600); refresh tokens live an hour.
//   --email       the one user's email (default you@yourcompany.com); any login is that user.
//   --orgs        the user's memberships, the first marked "default" (default yourcompany:admin).
//
// Beside the provider, for the test that drives it:
//   GET /_test/stats    counters as JSON: refreshes, refresh_reuses, userinfo_ok, revocations
//                       (answered 200), foreign_tokens (a token this issuer never issued arrived
//                       in an Authorization header or a token/refresh_token form field).
//   GET /_test/secrets  {"secrets": [...]}: every token and device code it issued, so that the test
//                       can check that none of them is in any output, log or error.
import fs from 'node:fs';
import http from 'node:http';
import querystring from 'node:querystring';
import Provider from 'oidc-provider';

function parseArgs(argv) {
  const options = { accessTtl: 3600, email: 'you@yourcompany.com', orgs: 'yourcompany:admin' };
  const [portFile, ...rest] = argv;
  if (!portFile) throw new Error('usage: issuer.mjs PORT_FILE [--access-ttl S] [--email E] [--orgs ...]');
  for (let i = 0; i < rest.length; i += 2) {
    const value = rest[i + 1];
    if (value === undefined) throw new Error(`${rest[i]} needs a value`);
    if (rest[i] === '--access-ttl') options.accessTtl = Number(value);
    else if (rest[i] === '--email') options.email = value;
    else if (rest[i] === '--orgs') options.orgs = value;
    else throw new Error(`unknown option ${rest[i]}`);
  }
  if (!(options.accessTtl > 0)) throw new Error('--access-ttl must be a positive number');
  options.memberships = options.orgs.split(',').map((pair, index) => {
    const [slug, role] = pair.split(':');
    return index === 0 ? { slug, role, default: true } : { slug, role };
  });
  return { portFile, options };
}

// What this issuer handed out, and what the test asks about it.
const issued = new Set();
const consumedRefresh = new Set();
const stats = { refreshes: 0, refresh_reuses: 0, userinfo_ok: 0, revocations: 0, foreign_tokens: 0 };

function newProvider(issuer, options) {
  const provider = new Provider(issuer, {
    clients: [{
      client_id: 'datagen-cli',
      client_name: 'datagen',
      application_type: 'native',
      token_endpoint_auth_method: 'none',
      grant_types: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'],
      response_types: [],
      redirect_uris: [],
    }],
    scopes: ['openid', 'email', 'orgs', 'offline_access'],
    claims: { openid: ['sub'], email: ['email', 'email_verified'], orgs: ['memberships'] },
    features: {
      devInteractions: { enabled: true },
      deviceFlow: { enabled: true },
      revocation: { enabled: true },
      userinfo: { enabled: true },
    },
    ttl: {
      AccessToken: options.accessTtl,
      RefreshToken: 3600,
      DeviceCode: 600,
      IdToken: 3600,
      Grant: 3600,
      Interaction: 600,
      Session: 3600,
    },
    rotateRefreshToken: true,
    cookies: { keys: ['tests-only-cookie-key'] },
    async findAccount(_ctx, sub) {
      return {
        accountId: sub,
        async claims() {
          return { sub, email: options.email, email_verified: true, memberships: options.memberships };
        },
      };
    },
  });
  const remember = (token) => { issued.add(token.jti); };
  provider.on('access_token.saved', remember);
  provider.on('refresh_token.saved', remember);
  provider.on('device_code.saved', remember);
  provider.on('refresh_token.consumed', (token) => { consumedRefresh.add(token.jti); });
  provider.on('grant.success', (ctx) => {
    if (ctx.oidc.params?.grant_type === 'refresh_token') stats.refreshes += 1;
  });
  provider.on('server_error', (_ctx, error) => { console.error(`server_error: ${error.message}`); });
  return provider;
}

// Every token a request carries: the Authorization header's bearer, and the form's token fields.
function presentedTokens(req, form) {
  const tokens = [];
  const auth = req.headers.authorization || '';
  if (/^bearer /i.test(auth)) tokens.push(auth.slice(7).trim());
  for (const field of ['token', 'refresh_token']) {
    if (typeof form[field] === 'string' && form[field] !== '') tokens.push(form[field]);
  }
  return tokens;
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function answerTest(req, res) {
  const body = req.url === '/_test/stats' ? stats : req.url === '/_test/secrets' ? { secrets: [...issued] } : null;
  res.writeHead(body ? 200 : 404, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body ?? { error: 'not_found' }));
}

async function serve(handler, req, res) {
  if (req.url.startsWith('/_test/')) return answerTest(req, res);
  // The body is read here to see which tokens arrive, then handed to the provider as an
  // upstream parser would (its documented req.body fallback).
  const raw = await readBody(req);
  const isForm = (req.headers['content-type'] || '').startsWith('application/x-www-form-urlencoded');
  const form = isForm ? querystring.parse(raw.toString()) : {};
  for (const token of presentedTokens(req, form)) {
    if (!issued.has(token)) stats.foreign_tokens += 1;
  }
  if (form.grant_type === 'refresh_token' && consumedRefresh.has(form.refresh_token)) {
    stats.refresh_reuses += 1;
  }
  if (raw.length) req.body = raw;
  res.on('finish', () => {
    if (res.statusCode !== 200) return;
    if (req.url.startsWith('/me')) stats.userinfo_ok += 1;
    if (req.url.startsWith('/token/revocation')) stats.revocations += 1;
  });
  return handler(req, res);
}

async function main() {
  const { portFile, options } = parseArgs(process.argv.slice(2));
  let handler = null;
  const server = http.createServer((req, res) => {
    serve(handler, req, res).catch((error) => {
      console.error(`request failed: ${error.message}`);
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  handler = newProvider(`http://127.0.0.1:${port}`, options).callback();
  fs.writeFileSync(`${portFile}.tmp`, `${port}\n`);
  fs.renameSync(`${portFile}.tmp`, portFile);
  for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => process.exit(0));
}

main().catch((error) => {
  console.error(`issuer.mjs: ${error.message}`);
  process.exit(1);
});
