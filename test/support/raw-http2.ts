/**
 * Just enough HTTP/2 framing (RFC 9113) to act as clients node:http2 will not be: one that never
 * answers a PING, opens more streams than allowed, or resets streams as fast as it opens them.
 * Header blocks use HPACK literals without indexing or Huffman coding (RFC 7541 §6.2.2).
 */
import type { Duplex } from "node:stream";

export const PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
export const FRAME = { DATA: 0, HEADERS: 1, RST_STREAM: 3, SETTINGS: 4, PING: 6, GOAWAY: 7 } as const;
export const FLAG = { END_STREAM: 0x1, ACK: 0x1, END_HEADERS: 0x4 } as const;
export const SETTING = { MAX_CONCURRENT_STREAMS: 0x3, MAX_HEADER_LIST_SIZE: 0x6 } as const;

export function frame(type: number, flags: number, streamId: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head[3] = type;
  head[4] = flags;
  head.writeUInt32BE(streamId, 5);
  return Buffer.concat([head, payload]);
}

/** An HPACK integer with a 7-bit prefix (RFC 7541 §5.1), as string lengths are written. */
function hpackLength(n: number): Buffer {
  if (n < 127) return Buffer.from([n]);
  const bytes = [127];
  for (n -= 127; n >= 128; n >>= 7) bytes.push((n & 0x7f) | 0x80);
  bytes.push(n);
  return Buffer.from(bytes);
}

export function headerBlock(headers: Readonly<Record<string, string>>): Buffer {
  return Buffer.concat(
    Object.entries(headers).flatMap(([name, value]) => [Buffer.from([0]), hpackLength(name.length), Buffer.from(name), hpackLength(value.length), Buffer.from(value)]),
  );
}

/** A gRPC request's headers for `path` (cleartext scheme; the server does not check it). */
export function grpcRequest(path: string, extra: Readonly<Record<string, string>> = {}): Buffer {
  return headerBlock({ ":method": "POST", ":scheme": "http", ":path": path, ":authority": "localhost", "content-type": "application/grpc", te: "trailers", ...extra });
}

/** An empty gRPC message: no compression, length 0. */
export const EMPTY_GRPC_MESSAGE = Buffer.alloc(5);

export interface Frame {
  readonly type: number;
  readonly flags: number;
  readonly streamId: number;
  readonly payload: Buffer;
}

/** Every frame the server sends on `socket`, as they arrive. */
export function readFrames(socket: Duplex, onFrame: (f: Frame) => void): void {
  let pending = Buffer.alloc(0);
  socket.on("data", (chunk: Buffer) => {
    pending = Buffer.concat([pending, chunk]);
    while (pending.length >= 9) {
      const length = pending.readUIntBE(0, 3);
      if (pending.length < 9 + length) break;
      onFrame({ type: pending[3]!, flags: pending[4]!, streamId: pending.readUInt32BE(5) & 0x7fffffff, payload: pending.subarray(9, 9 + length) });
      pending = pending.subarray(9 + length);
    }
  });
}

/** A SETTINGS frame's values by identifier. */
export function settingsOf(f: Frame): Map<number, number> {
  const values = new Map<number, number>();
  for (let i = 0; i + 6 <= f.payload.length; i += 6) values.set(f.payload.readUInt16BE(i), f.payload.readUInt32BE(i + 2));
  return values;
}
