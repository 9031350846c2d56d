// A typed-enough client of datagen-agent for Node.js (IDE plugins, status bars), loading the
// public API straight from proto/datagen/agent/v1/agent.proto. See docs/api.md.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const PROTO_ROOT = path.resolve(__dirname, '..', '..', 'proto');

// The agent's socket, as the CLI finds it: $DATAGEN_AGENT_SOCKET, else
// $XDG_RUNTIME_DIR/datagen/agent.sock, else /tmp/datagen-<uid>/agent.sock.
function socketPath(env = process.env) {
  if (env.DATAGEN_AGENT_SOCKET) return env.DATAGEN_AGENT_SOCKET;
  if (env.XDG_RUNTIME_DIR && env.XDG_RUNTIME_DIR.startsWith('/')) {
    return path.join(env.XDG_RUNTIME_DIR, 'datagen', 'agent.sock');
  }
  return `/tmp/datagen-${os.userInfo().uid}/agent.sock`;
}

// Every client verifies the agent before it sends a byte (docs/api.md): the socket's folder is
// a real folder of ours that others cannot write to, and the socket, when present, is ours.
// Node.js has no SO_PEERCRED; the folder rule means only we (or root) could have bound it.
function checkSocket(socket, uid = os.userInfo().uid) {
  const dir = path.dirname(socket);
  const advice = 'another user may be listening there; set XDG_RUNTIME_DIR or ' +
      'DATAGEN_AGENT_SOCKET to a folder of your own (mode 0700)';
  const mode = (st) => (st.mode & 0o7777).toString(8).padStart(4, '0');
  const st = fs.lstatSync(dir);
  if (!st.isDirectory() || st.uid !== uid || (st.mode & 0o022) !== 0) {
    throw new Error(`refusing to talk to the agent at ${socket}: its folder ${dir} is owned by ` +
        `uid ${st.uid} with mode ${mode(st)} (it must be a folder of yours that others cannot ` +
        `write to; you are uid ${uid}); ${advice}`);
  }
  let sock;
  try {
    sock = fs.lstatSync(socket);
  } catch (e) {
    if (e.code === 'ENOENT') return;  // nothing there yet: the call reports UNAVAILABLE
    throw e;
  }
  if (!sock.isSocket() || sock.uid !== uid) {
    throw new Error(`refusing to talk to the agent at ${socket}: it is ` +
        `${sock.isSocket() ? 'a socket' : 'not a socket'} owned by uid ${sock.uid} with mode ` +
        `${mode(sock)}, not a socket of yours (you are uid ${uid}); ${advice}`);
  }
}

function loadApi() {
  const definition = protoLoader.loadSync('datagen/agent/v1/agent.proto', {
    includeDirs: [PROTO_ROOT],
    keepCase: true,      // field names as in the proto (active_org_slug)
    enums: String,       // enum values by name (SESSION_STATE_SIGNED_IN)
    longs: Number,
    defaults: true,
    oneofs: true,
  });
  return grpc.loadPackageDefinition(definition).datagen.agent.v1;
}

// Connects to the agent; `socket` defaults to socketPath(). Returns the AuthAgent client.
function connect(socket = socketPath()) {
  checkSocket(socket);
  const api = loadApi();
  return new api.AuthAgent(`unix://${socket}`, grpc.credentials.createInsecure());
}

// The standard grpc.health.v1 client on the same socket.
function connectHealth(socket = socketPath()) {
  checkSocket(socket);
  const definition = protoLoader.loadSync('grpc/health/v1/health.proto', {
    includeDirs: [PROTO_ROOT], keepCase: true, enums: String,
  });
  const api = grpc.loadPackageDefinition(definition).grpc.health.v1;
  return new api.Health(`unix://${socket}`, grpc.credentials.createInsecure());
}

// Promise of a unary call, e.g. call(client, 'GetStatus', {}).
function call(client, method, request = {}, timeoutMs = 30000) {
  return new Promise((resolve, reject) => {
    client[method](request, { deadline: Date.now() + timeoutMs }, (error, reply) => {
      if (error) reject(error);
      else resolve(reply);
    });
  });
}

// The profile and organization of a request as every datagen client chooses them: the
// arguments, else $DATAGEN_PROFILE and $DATAGEN_ORG (an IDE plugin passes its workspace setting).
function scoped(request, { profile, org } = {}, env = process.env) {
  const out = Object.assign({}, request, { profile: profile || env.DATAGEN_PROFILE || '' });
  if (org) Object.assign(out, { org, org_source: 'ORG_SOURCE_FLAG' });
  else if (env.DATAGEN_ORG) Object.assign(out, { org: env.DATAGEN_ORG, org_source: 'ORG_SOURCE_ENV' });
  return out;
}

// The token and what goes with it, in one call: { token, token_type, api_url, org, org_source,
// profile, email, expires_at (a Date or null), min_valid_unmet }. `minValid` in seconds: refresh
// first unless the token stays valid that long. Rejects with the gRPC error (code 16,
// UNAUTHENTICATED, when not signed in).
async function credentials({ profile, org, minValid } = {}, client = connect()) {
  const request = scoped({}, { profile, org });
  if (minValid) request.min_valid_seconds = Math.ceil(minValid);
  const reply = await call(client, 'GetToken', request);
  const expires = reply.expires_at ? new Date(reply.expires_at.seconds * 1000) : null;
  return {
    token: reply.token, token_type: reply.token_type || 'Bearer', api_url: reply.api_url,
    org: reply.active_org_slug, org_source: reply.org_source, profile: reply.profile,
    email: reply.email, expires_at: expires, min_valid_unmet: reply.min_valid_unmet,
  };
}

// The access token alone.
async function token(options = {}, client = connect()) {
  return (await credentials(options, client)).token;
}

// Who is signed in, as GetStatus answers it.
async function status({ profile, org } = {}, client = connect()) {
  return call(client, 'GetStatus', scoped({}, { profile, org }));
}

// The agent's record of token hand-outs, newest first (never a token).
async function audit(client = connect()) {
  return (await call(client, 'ListTokenHandouts', {})).handouts;
}

module.exports = {
  socketPath, checkSocket, connect, connectHealth, call, grpc, scoped, credentials, token, status,
  audit,
};
