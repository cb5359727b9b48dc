/**
 * The first hop of every socket.io connection: lastword's protocol is JSON, so binary packets
 * (`BINARY_EVENT`, `BINARY_ACK`) and binary frames are refused at their header, before socket.io buffers
 * an attachment or anything walks one; and until a connection has sent its handshake (the CONNECT
 * packet), nothing longer than `limits.maxHandshakeBytes` is parsed. A refused packet is a protocol
 * violation: socket.io closes the connection (`parse error`), nothing else runs.
 *
 * It is installed by wrapping the Decoder of the server's parser, which socket.io instantiates per
 * connection: on servers `attach` creates and on servers the app made itself alike.
 */
import { LastwordError } from '@lastword/core'
import type { Limits } from '../types.js'
import type { SyncIoServer } from './types.js'

/** socket.io packet types (socket.io-parser's `PacketType`), as the first character of a text packet. */
const CONNECT = 0
const BINARY_EVENT = 5
const BINARY_ACK = 6

/** Marks a parser module this guard produced, so attaching twice wraps once. */
const GUARDED = Symbol.for('lastword.packet-guard')

interface DecoderLike {
  add(chunk: unknown): void
}

/** What socket.io expects of a parser module (`ServerOptions.parser`). */
interface ParserModule {
  Encoder: new () => { encode(packet: unknown): unknown }
  Decoder: new () => DecoderLike
  [GUARDED]?: true
  [key: string]: unknown
}

/**
 * Installs the guard on a socket.io server before it accepts connections; throws a `BAD_REQUEST` naming
 * what to change when it cannot (connections already open, a parser that is not socket.io's JSON one).
 */
export function installPacketGuard(io: SyncIoServer, limits: Pick<Limits, 'maxHandshakeBytes'>): void {
  const holder = io as unknown as { _parser: ParserModule }
  const base = holder._parser
  if (base[GUARDED] === true) return
  if (!speaksJson(base)) {
    throw new LastwordError(
      'BAD_REQUEST',
      "lastword speaks JSON over socket.io's default parser; create the socket.io Server without a custom `parser` option",
    )
  }
  if ((io.engine as { clientsCount?: number } | undefined)?.clientsCount) {
    throw new LastwordError('BAD_REQUEST', 'attach() the socket.io Server before it accepts connections (call it before listen())')
  }
  holder._parser = guardParser(base, limits.maxHandshakeBytes)
}

/** socket.io's default parser encodes an event as one string; a binary parser (msgpack…) as bytes. */
function speaksJson(parser: ParserModule): boolean {
  try {
    const out = new parser.Encoder().encode({ type: 2, nsp: '/', data: ['lw:probe'] })
    return Array.isArray(out) && out.length === 1 && typeof out[0] === 'string' && typeof parser.Decoder === 'function'
  } catch {
    return false
  }
}

function guardParser(base: ParserModule, maxHandshakeBytes: number): ParserModule {
  const Base = base.Decoder
  class GuardedDecoder extends Base {
    #handshaken = false
    override add(chunk: unknown): void {
      // The thrown messages stay in the server (socket.io logs them at debug); the client sees a close.
      if (typeof chunk !== 'string') throw new Error('lastword: binary frame refused (the protocol is JSON)')
      const type = chunk.charCodeAt(0) - 48
      if (type === BINARY_EVENT || type === BINARY_ACK) throw new Error('lastword: binary packet refused (the protocol is JSON)')
      if ((type === CONNECT || !this.#handshaken) && chunk.length > maxHandshakeBytes) {
        throw new Error('lastword: handshake larger than limits.maxHandshakeBytes refused')
      }
      super.add(chunk)
      if (type === CONNECT) this.#handshaken = true
    }
  }
  return { ...base, Decoder: GuardedDecoder, [GUARDED]: true }
}
