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

// The folder must be 0700 and ours, as the agent requires: never talk to a socket that
// someone else could have put there.
function checkSocketFolder(socket) {
  const dir = path.dirname(socket);
  const st = fs.lstatSync(dir);
  if (!st.isDirectory() || st.uid !== os.userInfo().uid || (st.mode & 0o077) !== 0) {
    throw new Error(`${dir} must be a folder of yours closed to others (0700)`);
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
  checkSocketFolder(socket);
  const api = loadApi();
  return new api.AuthAgent(`unix://${socket}`, grpc.credentials.createInsecure());
}

// The standard grpc.health.v1 client on the same socket.
function connectHealth(socket = socketPath()) {
  checkSocketFolder(socket);
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

module.exports = { socketPath, connect, connectHealth, call, grpc };
