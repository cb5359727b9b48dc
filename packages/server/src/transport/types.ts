/**
 * The transport's own types: the `authenticate` hook, the typed socket.io server and socket, and the
 * state kept per connected socket.
 */
import type { IncomingHttpHeaders } from 'node:http'
import type { ClientToServerEvents, CompiledScope, Handshake, ServerToClientEvents } from '@lastword/core'
import type { Server, Socket } from 'socket.io'
import type { Principal } from '../types.js'

/** What `authenticate` learns about the connection besides the handshake. */
export interface AuthenticateContext {
  /** The headers of the connection's first HTTP request (cookies, `origin`, `user-agent`…). */
  headers: IncomingHttpHeaders
  /** The remote address as socket.io sees it (behind a proxy: the proxy's, unless trusted headers are read). */
  address: string
}

/**
 * Decides who is on the other end of a connection. Return the principal (optionally with `expiresAt`,
 * epoch ms, at which the socket is closed), or `null` / throw to refuse with `UNAUTHENTICATED`. A thrown
 * `LastwordError` reaches the client as is (its code and message); anything else becomes a generic
 * `UNAUTHENTICATED` and is logged, so a failing token library never leaks its internals.
 */
export type Authenticate<P extends Principal = Principal> = (
  handshake: Handshake,
  context: AuthenticateContext,
) => P | null | undefined | Promise<P | null | undefined>

/** The socket.io server lastword speaks on. */
export type SyncIoServer = Server<ClientToServerEvents, ServerToClientEvents>

/** One connected socket, typed by lastword's event maps. */
export type SyncSocket = Socket<ClientToServerEvents, ServerToClientEvents>

/** A subscription as `lw:sync` asks for it: the client's id, table and filter as it sent them. */
export interface SubscriptionRequest {
  id: string
  table: string
  where: Record<string, unknown>
}

/** A live scope on a socket: `lw:sync` with `subscription` registered it, `lw:unsubscribe` removes it. */
export interface Subscription {
  /** The client-chosen id, echoed in every `lw:changes` event. */
  id: string
  table: string
  /**
   * The client's filter, validated and compiled once when the subscription was made (row S13); what
   * `authorize` allows is asked again at every delivery (V8) and AND-ed with it.
   */
  filter: CompiledScope
}

/**
 * What a session needs of its connection: a socket.io socket, or an in-process duplex served through
 * `serveConnection` (see {@link DuplexConnection}). socket.io sockets are used as they are.
 */
export interface SessionSocket {
  readonly connected: boolean
  readonly handshake: { readonly auth: unknown; readonly headers: IncomingHttpHeaders; readonly address: string }
  /** Runs before every incoming event (socket.io's `socket.use`). */
  use(fn: (packet: unknown[], next: (err?: Error) => void) => void): unknown
  on(event: string, listener: (...args: never[]) => void): unknown
  emit<E extends keyof ServerToClientEvents>(event: E, ...args: Parameters<ServerToClientEvents[E]>): unknown
  disconnect(close?: boolean): unknown
}

/**
 * A connection that is not a socket.io socket — an in-process duplex (the fault-injecting test
 * transport, or any custom carrier) — served by `Transport.serveConnection`. It must deliver client
 * events (`lw:sync`, `lw:unsubscribe`, with their ack as the last argument) to the handlers registered
 * with `on`, emit `disconnect` (with a reason) once when it ends, and carry server events (`lw:hello`,
 * `lw:changes`) sent with `emit` to the client.
 */
export interface DuplexConnection {
  /** What socket.io calls the handshake: the client's `auth` object, and optionally headers and address. */
  readonly handshake: { readonly auth: unknown; readonly headers?: IncomingHttpHeaders; readonly address?: string }
  /** Whether the connection is still up. */
  readonly connected: boolean
  /** Registers a handler for a client event, or for `disconnect`. */
  on(event: string, listener: (...args: never[]) => void): void
  /** Sends a server event to the client. */
  emit(event: string, ...args: unknown[]): void
  /** Ends the connection from the server's side; the duplex then emits `disconnect`. */
  disconnect(close?: boolean): void
}

/** What the transport keeps per connected socket. */
export interface Session {
  readonly socket: SessionSocket
  readonly principal: Principal
  /** The handshake's client id, bound to this principal for the socket's life (V7). */
  readonly clientId: string
  /** The protocol the client speaks (protocol-adapter.ts). */
  readonly protocolVersion: number
  /** By subscription id. */
  readonly subscriptions: Map<string, Subscription>
  /** `lw:sync` requests being handled right now. */
  inFlight: number
}
