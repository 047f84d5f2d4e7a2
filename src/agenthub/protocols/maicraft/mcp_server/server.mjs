#!/usr/bin/env node
// agenthub's MCP server for a Minecraft bot (stdio transport): a mineflayer bot behind the tool names and
// result shapes of the original MaicraftAgent MCP server. Every tool answers one object
//   {ok, data?, error_code?, error_message?, request_id, elapsed_ms}
// both as JSON text content and as structuredContent. A tool never fails at the MCP level for a game
// reason: ok false with error_code `service_unavailable` while the bot is not in a world.
//
//   node server.mjs [--host 127.0.0.1] [--port 25565] [--username Mai] [--version 1.20.2]
//   (or MC_HOST / MC_PORT / MC_USERNAME / MC_VERSION)
//
// stdout carries the MCP protocol only; diagnostics go to stderr (agenthub keeps them in its log ring).
import { randomUUID } from 'node:crypto'
import { createRequire } from 'node:module'
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js'
import { z } from 'zod'

const require = createRequire(import.meta.url)
const mineflayer = require('mineflayer')
const { Vec3 } = require('vec3')

function arg (name, envName, fallback) {
  const i = process.argv.indexOf(`--${name}`)
  if (i >= 0 && i + 1 < process.argv.length) return process.argv[i + 1]
  return process.env[envName] || fallback
}

const MC_HOST = arg('host', 'MC_HOST', '127.0.0.1')
const MC_PORT = Number(arg('port', 'MC_PORT', '25565'))
const MC_USERNAME = arg('username', 'MC_USERNAME', 'Mai')
const MC_VERSION = arg('version', 'MC_VERSION', '') || undefined
const EXECUTION_TIMEOUT_MS = 600_000
const MAX_EVENTS = 1000
const SUPPORTED_EVENT_TYPES = [
  'chat', 'playerJoined', 'playerLeft', 'death', 'spawn', 'weatherUpdate', 'kicked', 'spawnReset', 'health',
  'breath', 'entityHurt', 'entityDead', 'playerCollect', 'itemDrop', 'forcedMove', 'end', 'error'
]

function log (...parts) { process.stderr.write(`[maicraft-mcp] ${parts.join(' ')}\n`) }

// -- the bot, reconnecting while the Minecraft server is away -----------------------------------------

let bot = null
let ready = false
let reconnectDelay = 1000
const events = []

function pushEvent (type, fields = {}) {
  const gameTick = bot && bot.time ? Number(bot.time.age) : 0
  events.push({ type, gameTick, timestamp: Date.now(), ...fields })
  if (events.length > MAX_EVENTS) events.splice(0, events.length - MAX_EVENTS)
}

function round2 (v) { return Math.round(v * 100) / 100 }
function vec (p) { return { x: round2(p.x), y: round2(p.y), z: round2(p.z) } }

function connect () {
  log(`connecting to ${MC_HOST}:${MC_PORT} as ${MC_USERNAME}`)
  const b = mineflayer.createBot({
    host: MC_HOST, port: MC_PORT, username: MC_USERNAME, auth: 'offline', version: MC_VERSION,
    hideErrors: true, checkTimeoutInterval: 30_000
  })
  bot = b
  b.once('spawn', () => {
    ready = true
    reconnectDelay = 1000
    log(`spawned at ${b.entity.position}`)
    pushEvent('spawn', { position: vec(b.entity.position) })
  })
  b.on('chat', (username, message) => pushEvent('chat', { username, message }))
  b.on('playerJoined', (p) => pushEvent('playerJoined', { username: p.username }))
  b.on('playerLeft', (p) => pushEvent('playerLeft', { username: p.username }))
  b.on('death', () => pushEvent('death', {}))
  b.on('health', () => pushEvent('health', { health: b.health, food: b.food }))
  b.on('weatherUpdate', () => pushEvent('weatherUpdate', { isRaining: b.isRaining, thunderState: b.thunderState }))
  b.on('entityHurt', (e) => pushEvent('entityHurt', { entity: e.name || e.username, entityId: e.id }))
  b.on('entityDead', (e) => pushEvent('entityDead', { entity: e.name || e.username, entityId: e.id }))
  b.on('playerCollect', (c, i) => pushEvent('playerCollect', { collector: c.username || c.name, itemId: i.id }))
  b.on('forcedMove', () => pushEvent('forcedMove', { position: vec(b.entity.position) }))
  b.on('kicked', (reason) => { log(`kicked: ${JSON.stringify(reason)}`); pushEvent('kicked', { reason: String(reason) }) })
  b.on('error', (err) => { log(`bot error: ${err && err.message}`); pushEvent('error', { message: String(err && err.message) }) })
  b.on('end', (reason) => {
    if (bot !== b) return
    ready = false
    pushEvent('end', { reason: String(reason) })
    log(`disconnected (${reason}); reconnecting in ${reconnectDelay} ms`)
    setTimeout(connect, reconnectDelay)
    reconnectDelay = Math.min(reconnectDelay * 2, 15_000)
  })
}

// -- results -------------------------------------------------------------------------------------------

class ToolError extends Error {
  constructor (code, message) { super(message); this.code = code }
}

function answer (body) {
  return { content: [{ type: 'text', text: JSON.stringify(body) }], structuredContent: body }
}

function tool (server, name, description, shape, run) {
  server.registerTool(name, { description, inputSchema: shape }, async (args) => {
    const started = Date.now()
    const requestId = randomUUID()
    const meta = () => ({ request_id: requestId, elapsed_ms: Date.now() - started })
    if (!ready || !bot || !bot.entity) {
      return answer({ ok: false, error_code: 'service_unavailable', error_message: 'bot is not connected to a Minecraft server', ...meta() })
    }
    let timer
    try {
      const timeout = new Promise((_resolve, reject) => {
        timer = setTimeout(() => reject(new ToolError('execution_timeout', `${name} took longer than ${EXECUTION_TIMEOUT_MS} ms`)), EXECUTION_TIMEOUT_MS)
      })
      const data = await Promise.race([run(args || {}), timeout])
      return answer({ ok: true, data, ...meta() })
    } catch (err) {
      const code = err instanceof ToolError ? err.code : 'execution_error'
      return answer({ ok: false, error_code: code, error_message: String(err && err.message), ...meta() })
    } finally {
      clearTimeout(timer)
    }
  })
}

// -- game state ----------------------------------------------------------------------------------------

function timeOfDayString (t) {
  if (t < 1000) return 'sunrise'
  if (t < 6000) return 'morning'
  if (t < 12000) return 'noon'
  if (t < 13000) return 'sunset'
  if (t < 18000) return 'night'
  return 'midnight'
}

function weather () {
  if (bot.thunderState > 0) return 'thunder'
  return bot.isRaining ? 'rain' : 'clear'
}

function gameState () {
  const timeOfDay = Number(bot.time.timeOfDay)
  return {
    timeOfDay,
    timeOfDayString: timeOfDayString(timeOfDay),
    worldAge: Number(bot.time.age),
    dayOfWorld: Math.floor(Number(bot.time.age) / 24000),
    isDay: bot.time.isDay,
    dimension: String(bot.game.dimension || 'overworld').replace('minecraft:', ''),
    difficulty: bot.game.difficulty,
    gameMode: bot.game.gameMode,
    onlinePlayers: Object.keys(bot.players),
    weather: weather()
  }
}

function itemInfo (item) {
  if (!item) return null
  const max = item.maxDurability || 0
  const used = item.durabilityUsed || 0
  return {
    name: item.name,
    count: item.count,
    curDurability: max ? max - used : null,
    maxDurability: max || null,
    durabilityPercentage: max ? Math.round((max - used) * 100 / max) : null,
    enchantments: item.enchants || []
  }
}

function playerStatus (includeInventory) {
  const e = bot.entity
  const slots = bot.inventory.slots
  const equipment = { head: slots[5], chest: slots[6], legs: slots[7], feet: slots[8], offhand: slots[45] }
  let biome = 'unknown'
  try {
    const block = bot.blockAt(e.position)
    if (block && block.biome && block.biome.name) biome = block.biome.name
  } catch {}
  const cursor = safe(() => bot.blockAtCursor(4))
  const status = {
    username: bot.username,
    gamemode: bot.game.gameMode,
    position: vec(e.position),
    velocity: vec(e.velocity),
    blockAtEntityCursor: cursor ? { name: cursor.name, position: vec(cursor.position) } : null,
    entityAtCursor: null,
    heldItem: itemInfo(bot.heldItem),
    usingHeldItem: Boolean(bot.usingHeldItem),
    biome,
    health: { current: bot.health, max: 20, percentage: Math.round((bot.health || 0) * 100 / 20) },
    experience: { points: bot.experience.points, level: bot.experience.level, progress: bot.experience.progress },
    food: { current: bot.food, max: 20, saturation: bot.foodSaturation, percentage: Math.round((bot.food || 0) * 100 / 20) },
    oxygen: bot.oxygenLevel ?? 20,
    armor: 0,
    isSleeping: Boolean(bot.isSleeping),
    onGround: Boolean(e.onGround),
    yaw: round2(e.yaw),
    pitch: round2(e.pitch),
    equipment: Object.fromEntries(Object.entries(equipment).map(([k, v]) => [k, itemInfo(v)]))
  }
  if (includeInventory) {
    const items = bot.inventory.items()
    const slotCount = bot.inventory.inventoryEnd - bot.inventory.inventoryStart
    status.inventory = {
      fullSlotCount: items.length,
      emptySlotCount: slotCount - items.length,
      slotCount,
      slots: items.map((i) => ({ slot: i.slot, count: i.count, name: i.name }))
    }
  }
  return status
}

function safe (fn) { try { return fn() } catch { return null } }

function surroundings (type, range) {
  const me = bot.entity.position
  if (type === 'players') {
    const list = Object.values(bot.players)
      .filter((p) => p.entity && p.username !== bot.username)
      .map((p) => ({ username: p.username, position: [round2(p.entity.position.x), round2(p.entity.position.y), round2(p.entity.position.z)], distance: round2(p.entity.position.distanceTo(me)) }))
      .filter((p) => p.distance <= range)
    return { players: { count: list.length, list } }
  }
  if (type === 'entities') {
    const list = Object.values(bot.entities)
      .filter((e) => e !== bot.entity && e.position.distanceTo(me) <= range)
      .map((e) => ({
        type: e.type, name: e.name || null, username: e.username || null, itemsInfo: null,
        position: [round2(e.position.x), round2(e.position.y), round2(e.position.z)],
        distance: round2(e.position.distanceTo(me)), health: e.health ?? null, maxHealth: 20
      }))
    return { entities: { count: list.length, list } }
  }
  if (type === 'blocks') {
    const blockMap = {}
    let totalCount = 0
    const c = me.floored()
    const r = Math.min(range, 8)
    for (let dx = -r; dx <= r; dx++) {
      for (let dy = -r; dy <= r; dy++) {
        for (let dz = -r; dz <= r; dz++) {
          const b = bot.blockAt(c.offset(dx, dy, dz))
          if (!b || b.name === 'air') continue
          totalCount++
          ;(blockMap[b.name] ||= []).push([b.position.x, b.position.y, b.position.z])
        }
      }
    }
    return { blocks: { totalCount, blockMap } }
  }
  throw new ToolError('INVALID_TYPE', `unknown surroundings type ${type}`)
}

function blockInfo (b) {
  return {
    x: b.position.x, y: b.position.y, z: b.position.z, name: b.name, displayName: b.displayName,
    hardness: b.hardness, material: b.material ?? null, harvestTools: b.harvestTools ? Object.keys(b.harvestTools) : null,
    drops: b.drops ?? [], lightLevel: b.light ?? 0, isSolid: b.boundingBox === 'block', isTransparent: Boolean(b.transparent),
    boundingBox: b.boundingBox, stateId: b.stateId, metadata: b.metadata, canSee: safe(() => bot.canSeeBlock(b)) ?? false
  }
}

function areaBlocks (a) {
  const { startX, startY, startZ, endX, endY, endZ } = a
  if (startX > endX || startY > endY || startZ > endZ) throw new ToolError('INVALID_COORDINATES', 'start must not be greater than end')
  const maxBlocks = a.maxBlocks ?? 5000
  const blocks = []
  const counts = {}
  let scanned = 0
  let truncated = false
  for (let x = startX; x <= endX && !truncated; x++) {
    for (let y = startY; y <= endY && !truncated; y++) {
      for (let z = startZ; z <= endZ; z++) {
        scanned++
        const b = bot.blockAt(new Vec3(x, y, z))
        if (!b || b.name === 'air' || b.name === 'cave_air' || b.name === 'void_air') continue
        if (blocks.length >= maxBlocks) { truncated = true; break }
        blocks.push(blockInfo(b))
        counts[b.name] = (counts[b.name] || 0) + 1
      }
    }
  }
  const statistics = { scannedBlocks: scanned, returnedBlocks: blocks.length, truncated }
  if (a.includeBlockCounts) statistics.blockCounts = counts
  return { queryParams: a, statistics, blocks }
}

// -- actions -------------------------------------------------------------------------------------------

function sleep (ms) { return new Promise((resolve) => setTimeout(resolve, ms)) }

async function walkTo (target, range, timeoutMs) {
  const deadline = Date.now() + timeoutMs
  try {
    while (Date.now() < deadline) {
      const here = bot.entity.position
      const dx = target.x - here.x
      const dz = target.z - here.z
      if (Math.sqrt(dx * dx + dz * dz) <= range) return true
      await bot.lookAt(new Vec3(target.x, here.y + bot.entity.height * 0.9, target.z), true)
      bot.setControlState('forward', true)
      bot.setControlState('jump', Boolean(bot.entity.isCollidedHorizontally))
      await sleep(50)
    }
    return false
  } finally {
    bot.clearControlStates()
  }
}

async function move (a) {
  let target
  const type = a.type || 'coordinate'
  if (type === 'coordinate') {
    if (a.x === undefined || a.z === undefined) throw new ToolError('INVALID_PARAMS', 'x and z are required')
    target = new Vec3(a.x, a.y ?? bot.entity.position.y, a.z)
  } else if (type === 'player') {
    const p = bot.players[a.username]
    if (!p || !p.entity) throw new ToolError('PLAYER_NOT_FOUND', `player ${a.username} not nearby`)
    target = p.entity.position
  } else if (type === 'block') {
    const id = bot.registry.blocksByName[a.block]
    const found = id && bot.findBlock({ matching: id.id, maxDistance: a.maxDistance ?? 64 })
    if (!found) throw new ToolError('BLOCK_NOT_FOUND', `no ${a.block} nearby`)
    target = found.position.offset(0.5, 0, 0.5)
  } else {
    throw new ToolError('INVALID_TYPE', `unknown move type ${type}`)
  }
  const from = vec(bot.entity.position)
  const range = a.distance ?? 0.5
  const arrived = await walkTo(target, range, a.timeoutMs ?? 30_000)
  const to = vec(bot.entity.position)
  if (!arrived) throw new ToolError('MOVE_FAILED', `could not reach ${target} (now at ${to.x}, ${to.y}, ${to.z})`)
  return { from, to, target: vec(target), distance: round2(new Vec3(from.x, from.y, from.z).distanceTo(bot.entity.position)) }
}

async function mineBlock (a) {
  let blocks = []
  if (a.x !== undefined && a.y !== undefined && a.z !== undefined) {
    const b = bot.blockAt(new Vec3(a.x, a.y, a.z))
    if (!b || b.name === 'air') throw new ToolError('BLOCK_NOT_FOUND', `no block at ${a.x}, ${a.y}, ${a.z}`)
    blocks = [b]
  } else {
    const info = bot.registry.blocksByName[a.name]
    if (!info) throw new ToolError('UNKNOWN_BLOCK', `unknown block ${a.name}`)
    const found = bot.findBlocks({ matching: info.id, maxDistance: a.maxDistance ?? 32, count: a.count ?? 1 })
    blocks = found.map((p) => bot.blockAt(p)).filter(Boolean)
    if (blocks.length === 0) throw new ToolError('BLOCK_NOT_FOUND', `no ${a.name} within reach`)
  }
  const mined = []
  for (const b of blocks) {
    if (b.position.distanceTo(bot.entity.position) > 4.5) await walkTo(b.position.offset(0.5, 0, 0.5), 2.5, 20_000)
    await bot.dig(b, true)
    mined.push({ name: b.name, x: b.position.x, y: b.position.y, z: b.position.z })
  }
  return { minedCount: mined.length, blocks: mined }
}

const FACES = {
  up: new Vec3(0, 1, 0), down: new Vec3(0, -1, 0), north: new Vec3(0, 0, -1),
  south: new Vec3(0, 0, 1), east: new Vec3(1, 0, 0), west: new Vec3(-1, 0, 0)
}

async function ensureItem (name) {
  let item = bot.inventory.items().find((i) => i.name === name)
  if (!item && bot.game.gameMode === 'creative') {
    const info = bot.registry.itemsByName[name]
    if (!info) throw new ToolError('UNKNOWN_ITEM', `unknown item ${name}`)
    const Item = require('prismarine-item')(bot.registry)
    await bot.creative.setInventorySlot(36, new Item(info.id, 1))
    item = bot.inventory.slots[36]
  }
  if (!item) throw new ToolError('ITEM_NOT_FOUND', `no ${name} in the inventory`)
  return item
}

async function placeBlock (a) {
  const target = new Vec3(a.x, a.y, a.z)
  const existing = bot.blockAt(target)
  if (existing && existing.name !== 'air') throw new ToolError('POSITION_OCCUPIED', `${existing.name} already at ${target}`)
  const item = await ensureItem(a.block)
  await bot.equip(item, 'hand')
  let reference = null
  let face = null
  for (const [, offset] of Object.entries(FACES)) {
    const candidate = bot.blockAt(target.minus(offset))
    if (candidate && candidate.boundingBox === 'block') { reference = candidate; face = offset; break }
  }
  if (!reference) throw new ToolError('NO_REFERENCE_BLOCK', `nothing to place against at ${target}`)
  if (target.distanceTo(bot.entity.position) > 4.5) await walkTo(target, 3, 20_000)
  await bot.placeBlock(reference, face)
  const placed = bot.blockAt(target)
  return { block: placed ? placed.name : a.block, position: { x: a.x, y: a.y, z: a.z } }
}

async function craftItem (a) {
  const info = bot.registry.itemsByName[a.item]
  if (!info) throw new ToolError('UNKNOWN_ITEM', `unknown item ${a.item}`)
  const table = bot.findBlock({ matching: bot.registry.blocksByName.crafting_table.id, maxDistance: 6 })
  const recipes = bot.recipesFor(info.id, null, 1, table)
  if (recipes.length === 0) throw new ToolError('NO_RECIPE', `cannot craft ${a.item} with what the bot has${table ? '' : ' (no crafting table nearby)'}`)
  await bot.craft(recipes[0], a.count ?? 1, table)
  return { item: a.item, count: a.count ?? 1 }
}

function containerAt (a, names) {
  const b = bot.blockAt(new Vec3(a.x, a.y, a.z))
  if (!b || !names.includes(b.name)) throw new ToolError('CONTAINER_NOT_FOUND', `no ${names[0]} at ${a.x}, ${a.y}, ${a.z}`)
  return b
}

function summarize (items) {
  const out = {}
  for (const i of items) out[i.name] = (out[i.name] || 0) + i.count
  return out
}

async function useChest (a) {
  const block = containerAt(a, ['chest', 'trapped_chest', 'barrel'])
  const chest = await bot.openContainer(block)
  try {
    const moved = []
    for (const { name, count } of a.items || []) {
      const info = bot.registry.itemsByName[name]
      if (!info) throw new ToolError('UNKNOWN_ITEM', `unknown item ${name}`)
      if (a.action === 'store') await chest.deposit(info.id, null, count)
      else if (a.action === 'withdraw') await chest.withdraw(info.id, null, count)
      moved.push({ name, count })
    }
    return { action: a.action || 'view', moved, contents: summarize(chest.containerItems()), position: { x: a.x, y: a.y, z: a.z } }
  } finally {
    chest.close()
  }
}

async function useFurnace (a) {
  const block = containerAt(a, ['furnace', 'blast_furnace', 'smoker'])
  const furnace = await bot.openFurnace(block)
  try {
    const item = (name) => {
      const info = bot.registry.itemsByName[name]
      if (!info) throw new ToolError('UNKNOWN_ITEM', `unknown item ${name}`)
      return info.id
    }
    if (a.action === 'put' && a.input) await furnace.putInput(item(a.input.name), null, a.input.count)
    if (a.action === 'put' && a.fuel) await furnace.putFuel(item(a.fuel.name), null, a.fuel.count)
    if (a.action === 'take') await furnace.takeOutput()
    const slot = (i) => (i ? { name: i.name, count: i.count } : null)
    return { action: a.action || 'view', input: slot(furnace.inputItem()), fuel: slot(furnace.fuelItem()), output: slot(furnace.outputItem()), position: { x: a.x, y: a.y, z: a.z } }
  } finally {
    furnace.close()
  }
}

// -- the MCP server ------------------------------------------------------------------------------------

const server = new McpServer({ name: 'agenthub-maicraft-mcp', version: '0.1.0' })
const int = z.number().int()
const itemList = z.array(z.object({ name: z.string(), count: z.number().int().positive() }))

tool(server, 'query_game_state', 'Time of day, weather, dimension, difficulty, game mode, online players', {}, async () => gameState())
tool(server, 'query_player_status', "The bot's health, food, position, equipment, experience (and inventory)", { includeInventory: z.boolean().optional() }, async (a) => playerStatus(Boolean(a.includeInventory)))
tool(server, 'query_surroundings', 'Players, entities or blocks around the bot', { type: z.enum(['players', 'entities', 'blocks']), range: z.number().optional() }, async (a) => surroundings(a.type, a.range ?? 10))
tool(server, 'query_recent_events', 'Game events the bot saw (chat, joins, deaths, ...) since a game tick', {
  sinceTick: z.number().optional(), type: z.string().optional(), limit: z.number().int().optional()
}, async (a) => {
  let list = events.filter((e) => (a.sinceTick === undefined || e.gameTick >= a.sinceTick) && (!a.type || e.type === a.type))
  if (a.limit) list = list.slice(-a.limit)
  const byType = {}
  for (const e of events) byType[e.type] = (byType[e.type] || 0) + 1
  return {
    total: list.length,
    events: list,
    stats: { total: events.length, byType, oldestGameTick: events[0]?.gameTick ?? null, newestGameTick: events.at(-1)?.gameTick ?? null },
    supportedEventTypes: SUPPORTED_EVENT_TYPES
  }
})
tool(server, 'query_area_blocks', 'Non-air blocks in a box', {
  startX: int, startY: int, startZ: int, endX: int, endY: int, endZ: int,
  maxBlocks: z.number().int().optional(), compressionMode: z.boolean().optional(), includeBlockCounts: z.boolean().optional()
}, async (a) => areaBlocks(a))
tool(server, 'query_block', 'The block at a position', { x: int, y: int, z: int }, async (a) => {
  const b = bot.blockAt(new Vec3(a.x, a.y, a.z))
  if (!b) throw new ToolError('CHUNK_NOT_LOADED', `the chunk at ${a.x}, ${a.z} is not loaded`)
  return blockInfo(b)
})
tool(server, 'chat', 'Say something in the game chat', { message: z.string().min(1) }, async (a) => {
  bot.chat(a.message)
  return { message: a.message }
})
tool(server, 'move', 'Walk to coordinates, a player or the nearest block of a kind', {
  type: z.enum(['coordinate', 'player', 'block']).optional(), x: z.number().optional(), y: z.number().optional(), z: z.number().optional(),
  username: z.string().optional(), block: z.string().optional(), distance: z.number().optional(), maxDistance: z.number().optional(), timeoutMs: z.number().optional()
}, move)
tool(server, 'mine_block', 'Dig the block at x,y,z or the nearest blocks of a kind', {
  name: z.string().optional(), count: z.number().int().optional(), x: int.optional(), y: int.optional(), z: int.optional(), maxDistance: z.number().optional()
}, mineBlock)
tool(server, 'place_block', 'Place a block from the inventory (creative: taken from the creative inventory) at x,y,z', {
  x: int, y: int, z: int, block: z.string()
}, placeBlock)
tool(server, 'craft_item', 'Craft an item (with a crafting table within 6 blocks when the recipe needs one)', { item: z.string(), count: z.number().int().optional() }, craftItem)
tool(server, 'use_chest', 'Look into a chest, or store/withdraw items', {
  x: int, y: int, z: int, action: z.enum(['view', 'store', 'withdraw']).optional(), items: itemList.optional()
}, useChest)
tool(server, 'use_furnace', 'Look into a furnace, put input/fuel or take the output', {
  x: int, y: int, z: int, action: z.enum(['view', 'put', 'take']).optional(),
  input: z.object({ name: z.string(), count: z.number().int() }).optional(), fuel: z.object({ name: z.string(), count: z.number().int() }).optional()
}, useFurnace)
tool(server, 'basic_control', 'Set or clear a control state (forward, back, left, right, jump, sprint, sneak) for a while', {
  control: z.enum(['forward', 'back', 'left', 'right', 'jump', 'sprint', 'sneak']), durationMs: z.number().int().optional()
}, async (a) => {
  bot.setControlState(a.control, true)
  await sleep(a.durationMs ?? 500)
  bot.setControlState(a.control, false)
  return { control: a.control, position: vec(bot.entity.position) }
})

connect()
await server.connect(new StdioServerTransport())
log('MCP server ready on stdio')
process.stdin.on('end', () => process.exit(0))
