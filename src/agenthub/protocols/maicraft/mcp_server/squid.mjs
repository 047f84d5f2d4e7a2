#!/usr/bin/env node
// A small local Minecraft server for development and tests: flying-squid, offline mode, a flat world
// kept in memory (nothing written to disk). Prints "ready <port>" on stdout once it listens.
//   node squid.mjs [--port 25565] [--host 127.0.0.1] [--version 1.20.2] [--gamemode creative|survival]
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)

function arg (name, fallback) {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback
}

const port = Number(arg('port', '25565'))
const host = arg('host', '127.0.0.1')
const version = arg('version', '1.20.2')
// creative lets the bot place blocks without gathering them first (the place_block tool takes them from the
// creative inventory); survival is the real game.
const gameMode = { survival: 0, creative: 1 }[arg('gamemode', 'creative')] ?? 1

const mcServer = require('flying-squid')
const serv = mcServer.createMCServer({
  motd: 'agenthub maicraft test server',
  port,
  host,
  'max-players': 10,
  'online-mode': false,
  logging: false,
  noConsoleOutput: true,
  gameMode,
  difficulty: 0,
  worldFolder: undefined,
  generation: { name: 'superflat', options: { worldHeight: 80 } },
  kickTimeout: 30000,
  plugins: {},
  modpe: false,
  'view-distance': 2,
  'player-list-text': { header: { text: 'agenthub' }, footer: { text: 'maicraft' } },
  'everybody-op': true,
  'max-entities': 50,
  version
})
serv.on('listening', () => { process.stdout.write(`ready ${port}\n`) })
serv.on('error', (err) => { process.stderr.write(`squid error: ${err && err.stack}\n`) })
const stop = () => { try { serv.quit() } catch {} process.exit(0) }
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
