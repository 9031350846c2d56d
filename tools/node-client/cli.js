#!/usr/bin/env node
// datagen-agent-client: prints the session's status, or follows it.
//   node cli.js status          one GetStatus, as JSON
//   node cli.js watch [N]       the Watch stream, one JSON event per line (stop after N)
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
    return await new Promise((resolve) => {
      let seen = 0;
      const stream = client.Watch({});
      stream.on('data', (event) => {
        console.log(JSON.stringify({ generation: event.generation, change: event.change,
                                     state: event.session.state,
                                     active_org_slug: event.session.active_org_slug }));
        if (++seen >= max) stream.cancel();
      });
      stream.on('error', (error) => {
        if (error.code === grpc.status.CANCELLED) resolve(0);
        else { console.error(`error: ${error.details}`); resolve(1); }
      });
      stream.on('end', () => resolve(0));
    });
  }
  console.error('usage: cli.js status | watch [N] | health');
  return 2;
}

main().then((code) => process.exit(code), (error) => {
  console.error(`error: ${error.details || error.message}`);
  process.exit(error.code === grpc.status.UNAUTHENTICATED ? 4 : 1);
});
