#!/usr/bin/env node
// datagen-agent-client: prints the session's status, or follows it.
//   node cli.js status          one GetStatus, as JSON
//   node cli.js watch [N]       the Watch stream, one JSON event per line (stop after N);
//                               follows the agent across an upgrade (AGENT_RESTARTING)
//   node cli.js health          grpc.health.v1 Check: prints SERVING (exit 0) or the status
// Exit codes as the datagen CLI: 0 ok, 1 error, 4 not signed in.
'use strict';
const { connect, connectHealth, call, grpc } = require('./client');

async function main() {
  const [command = 'status', limit] = process.argv.slice(2);
  const client = connect();
  if (command === 'status') {
    const reply = await call(client, 'GetStatus');
    console.log(JSON.stringify({ email: reply.email, active_org_slug: reply.active_org_slug,
                                 role: reply.role }));
    return 0;
  }
  if (command === 'health') {
    const reply = await call(connectHealth(), 'Check', { service: '' });
    console.log(reply.status);
    return reply.status === 'SERVING' ? 0 : 1;
  }
  if (command === 'watch') {
    const max = limit ? Number(limit) : Infinity;
    let seen = 0;
    // An agent handing over to an upgraded binary sends SESSION_CHANGE_AGENT_RESTARTING, then
    // goes: reconnect (for up to 30 s) and follow the new one.
    const follow = (watchClient) => new Promise((resolve) => {
      let restarting = false;
      const stream = watchClient.Watch({});
      stream.on('data', (event) => {
        console.log(JSON.stringify({ generation: event.generation, change: event.change,
                                     state: event.session.state,
                                     active_org_slug: event.session.active_org_slug }));
        if (event.change === 'SESSION_CHANGE_AGENT_RESTARTING') restarting = true;
        if (++seen >= max) stream.cancel();
      });
      stream.on('error', (error) => {
        if (restarting) resolve('restart');
        else if (error.code === grpc.status.CANCELLED) resolve(0);
        else { console.error(`error: ${error.details}`); resolve(1); }
      });
      stream.on('end', () => resolve(restarting ? 'restart' : 0));
    });
    let outcome = await follow(client);
    while (outcome === 'restart') {
      outcome = 1;
      for (const end = Date.now() + 30000; Date.now() < end && outcome === 1;) {
        await new Promise((r) => setTimeout(r, 200));
        const fresh = connect();
        const answered = await call(fresh, 'GetAgentInfo').then(() => true, () => false);
        if (answered) outcome = await follow(fresh);
      }
      if (outcome === 1) console.error('error: the agent did not come back after its restart');
    }
    return outcome;
  }
  console.error('usage: cli.js status | watch [N] | health');
  return 2;
}

main().then((code) => process.exit(code), (error) => {
  console.error(`error: ${error.details || error.message}`);
  process.exit(error.code === grpc.status.UNAUTHENTICATED ? 4 : 1);
});
