#!/usr/bin/env node
// datagen-agent-client: prints the session's status, or follows it.
//   node cli.js status          one GetStatus, as JSON
//   node cli.js watch [N]       the Watch stream, one JSON event per line (stop after N);
//                               follows the session across agents, as `datagen auth status
//                               --watch` does (see watch below)
//   node cli.js health          grpc.health.v1 Check: prints SERVING (exit 0) or the status
// --profile NAME (else $DATAGEN_PROFILE, else the default profile) and --org SLUG (else
// $DATAGEN_ORG) choose the session, as an IDE plugin does from its workspace setting: every
// request names them; the agent keeps no "current" profile (docs/api.md "Profiles").
// Exit codes as the datagen CLI: 0 ok, 1 error, 4 not signed in.
'use strict';
const { spawnSync } = require('child_process');
const { connect, connectHealth, call, credentials, grpc } = require('./client');

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Starts an agent with this process's settings through the CLI (`datagen auth agent start`;
// $DATAGEN_CLI, else datagen on PATH), as the CLI starts one on demand. False when it cannot.
function startAgent() {
  if (process.env.DATAGEN_NO_AUTOSTART === '1') return false;
  const cli = process.env.DATAGEN_CLI || 'datagen';
  const run = spawnSync(cli, ['auth', 'agent', 'start', '--format', 'json'], { stdio: 'ignore' });
  return run.status === 0;
}

// Follows the session as `datagen auth status --watch` does (docs/api.md): when the agent goes
// away, waits for the next one and shows its first event as SESSION_CHANGE_AGENT_REPLACED.
// After SESSION_CHANGE_AGENT_STOPPING (a stop) it starts none, so that a stop stays a stop;
// after a hand-over (SESSION_CHANGE_AGENT_RESTARTING) or a crash it starts one (startAgent).
// An error the agent itself answers (e.g. RESOURCE_EXHAUSTED) ends the watch, exit 1.
async function watch(firstClient, max, scope) {
  let seen = 0;
  let instance = '';
  let last = '';
  const follow = (client) => new Promise((resolve) => {
    let done = null;
    const stream = client.Watch({ profile: scope.profile });
    stream.on('data', (event) => {
      let change = event.change;
      if (instance && event.agent_instance !== instance && change === 'SESSION_CHANGE_INITIAL') {
        change = 'SESSION_CHANGE_AGENT_REPLACED';
      }
      instance = event.agent_instance;
      last = event.change;
      console.log(JSON.stringify({ generation: event.generation, change,
                                   state: event.session.state,
                                   active_org_slug: event.session.active_org_slug }));
      if (++seen >= max) {
        done = 0;
        stream.cancel();
      }
    });
    stream.on('error', (error) => {
      if (done !== null) resolve(done);
      else if ([grpc.status.UNAVAILABLE, grpc.status.INTERNAL, grpc.status.UNKNOWN,
                grpc.status.CANCELLED].includes(error.code)) resolve('gone');
      else { console.error(`error: ${error.details}`); resolve(1); }
    });
    stream.on('end', () => resolve(done !== null ? done : 'gone'));
  });
  let outcome = await follow(firstClient);
  let pause = 50;
  let told = false;
  while (outcome === 'gone') {
    const stopped = last === 'SESSION_CHANGE_AGENT_STOPPING';
    if (!told && last !== 'SESSION_CHANGE_AGENT_RESTARTING') {
      console.error(stopped ? 'note: the agent stopped; waiting for one to start'
                            : 'warning: the agent went away; starting it again');
      told = true;
    }
    await sleep(pause);
    pause = Math.min(pause * 2, 2000);
    if (!stopped) startAgent();
    let client;
    try {
      client = connect();
    } catch (error) {
      continue;  // its folder is not there (yet): nothing to talk to
    }
    if (await call(client, 'GetAgentInfo', {}, 2000).then(() => true, () => false)) {
      told = false;
      pause = 50;
      outcome = await follow(client);
    } else {
      client.close();
    }
  }
  return outcome;
}

// The profile and organization of every request: flags, else the environment (empty: the
// default profile, its stored organization).
function scopeOf(args, env = process.env) {
  const scope = { profile: env.DATAGEN_PROFILE || '', org: env.DATAGEN_ORG || '',
                  org_source: env.DATAGEN_ORG ? 'ORG_SOURCE_ENV' : 'ORG_SOURCE_UNSPECIFIED' };
  const rest = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--profile' && i + 1 < args.length) scope.profile = args[++i];
    else if (args[i] === '--org' && i + 1 < args.length) {
      scope.org = args[++i];
      scope.org_source = 'ORG_SOURCE_FLAG';
    } else rest.push(args[i]);
  }
  return { scope, rest };
}

async function main() {
  const { scope, rest } = scopeOf(process.argv.slice(2));
  const [command = 'status', limit] = rest;
  const client = connect();
  if (command === 'status') {
    const reply = await call(client, 'GetStatus', scope);
    const shown = { email: reply.email, active_org_slug: reply.active_org_slug, role: reply.role };
    // Which profile and whose organization, once the caller chose either.
    if (scope.profile || scope.org) Object.assign(shown, { profile: reply.profile,
                                                           org_source: reply.org_source });
    console.log(JSON.stringify(shown));
    return 0;
  }
  if (command === 'health') {
    const reply = await call(connectHealth(), 'Check', { service: '' });
    console.log(reply.status);
    return reply.status === 'SERVING' ? 0 : 1;
  }
  if (command === 'watch') return watch(client, limit ? Number(limit) : Infinity, scope);
  if (command === 'credentials') {
    // What a plugin gets in one call; the token itself is not printed, only that there is one.
    const got = await credentials({ profile: scope.profile, org: scope.org,
                                    minValid: limit ? Number(limit) : 0 }, client);
    const { token, ...shown } = got;
    console.log(JSON.stringify(Object.assign(shown, { has_token: token.length > 0 })));
    return 0;
  }
  console.error('usage: cli.js status | watch [N] | health | credentials [MIN_VALID_SECONDS]');
  return 2;
}

main().then((code) => process.exit(code), (error) => {
  console.error(`error: ${error.details || error.message}`);
  process.exit(error.code === grpc.status.UNAUTHENTICATED ? 4 : 1);
});
