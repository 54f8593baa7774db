/**
 * A minimal protobuf (proto3) wire codec for the few messages wirescope
 * exchanges with containerd and CRI servers. It replaces protobufjs and
 * proto-loader, whose load (code generation from proto text) cost more than a
 * small host's whole discovery (ARCHITECTURE.md "Start-up cost").
 *
 * Decoded objects have the shape proto-loader gave with
 * `{keepCase, longs: Number, enums: String, defaults: true}`: every declared
 * field present, scalars at their proto3 default, messages `null` when absent,
 * enums by name (an unknown number as its decimal string).
 *
 * Input is untrusted (an engine socket may be anyone's): every length is
 * checked against the bytes left, a varint is at most 10 bytes, group wire
 * types (3, 4; deprecated, never used by these protos) are refused, and
 * nesting is bounded by the schema (unknown fields are skipped, not decoded).
 * Wire format: https://protobuf.dev/programming-guides/encoding/
 */

export type ScalarType = 'string' | 'bytes' | 'bool' | 'uint32' | 'int32' | 'int64' | 'uint64';

export interface Field {
  readonly name: string;
  readonly no: number;
  readonly type: ScalarType | 'enum' | 'message' | 'map';
  readonly repeated?: boolean;
  /** Enum value names by number (proto3: the first is 0, the default). */
  readonly values?: readonly string[];
  /** The message type (a thunk so schemas may name each other in any order). */
  readonly message?: () => Schema;
}

export type Schema = readonly Field[];

/** A decoded message: field names to values (see the module comment for their shapes). */
export type PbObject = { [name: string]: unknown };

export class ProtobufError extends Error {}

// Wire types.
const VARINT = 0;
const I64 = 1;
const LEN = 2;
const I32 = 5;

const TWO_32 = 2 ** 32;

/** Reads one message's fields from buf[pos, end). */
class Reader {
  constructor(
    private readonly buf: Uint8Array,
    public pos: number,
    private readonly end: number,
  ) {}

  get done(): boolean {
    return this.pos >= this.end;
  }

  /** A varint as two unsigned 32-bit halves (a uint64 does not fit a double exactly). */
  varint64(): [lo: number, hi: number] {
    let lo = 0;
    let hi = 0;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new ProtobufError('truncated varint');
      const b = this.buf[this.pos++] as number;
      const bits = b & 0x7f;
      if (i < 4) lo |= bits << (7 * i);
      else if (i === 4) {
        lo |= bits << 28;
        hi |= bits >>> 4;
      } else hi |= bits << (7 * i - 32);
      if (b < 0x80) return [lo >>> 0, hi >>> 0];
    }
    throw new ProtobufError('malformed varint (more than 10 bytes)');
  }

  uint32(): number {
    return this.varint64()[0];
  }

  length(): number {
    const [lo, hi] = this.varint64();
    if (hi !== 0 || lo > this.end - this.pos)
      throw new ProtobufError(`length ${hi * TWO_32 + lo} beyond the ${this.end - this.pos} bytes left`);
    return lo;
  }

  skip(wire: number): void {
    switch (wire) {
      case VARINT:
        this.varint64();
        return;
      case I64:
        this.advance(8);
        return;
      case LEN:
        this.advance(this.length());
        return;
      case I32:
        this.advance(4);
        return;
      default:
        throw new ProtobufError(`unsupported wire type ${wire}`);
    }
  }

  advance(n: number): void {
    if (n > this.end - this.pos) throw new ProtobufError('truncated field');
    this.pos += n;
  }
}

const decoder = new TextDecoder('utf-8');

function defaultOf(f: Field): unknown {
  if (f.type === 'map') return {};
  if (f.repeated) return [];
  switch (f.type) {
    case 'string':
      return '';
    case 'bytes':
      return Buffer.alloc(0);
    case 'bool':
      return false;
    case 'enum':
      return f.values?.[0] ?? '0';
    case 'message':
      return null;
    default:
      return 0;
  }
}

/** int64 from two's complement halves; exact up to 2^53 (timestamps in ns are below 2^63 but above 2^53: rounded, as `longs: Number` did). */
function int64(lo: number, hi: number): number {
  if (hi & 0x80000000) return -((~hi >>> 0) * TWO_32 + (~lo >>> 0) + 1);
  return hi * TWO_32 + lo;
}

function scalar(r: Reader, buf: Uint8Array, f: Field, wire: number): unknown {
  switch (f.type) {
    case 'string':
    case 'bytes': {
      if (wire !== LEN) throw new ProtobufError(`field ${f.name}: wire type ${wire}, want 2`);
      const n = r.length();
      const start = r.pos;
      r.pos += n;
      return f.type === 'string'
        ? decoder.decode(buf.subarray(start, start + n))
        : Buffer.from(buf.subarray(start, start + n));
    }
    default: {
      if (wire !== VARINT) throw new ProtobufError(`field ${f.name}: wire type ${wire}, want 0`);
      const [lo, hi] = r.varint64();
      switch (f.type) {
        case 'bool':
          return lo !== 0 || hi !== 0;
        case 'uint32':
          return lo;
        case 'int32':
          return lo | 0;
        case 'int64':
          return int64(lo, hi);
        case 'uint64':
          return hi * TWO_32 + lo;
        default: {
          // enum: open in proto3, so a number without a name is kept as its decimal string.
          const n = lo | 0;
          return f.values?.[n] ?? String(n);
        }
      }
    }
  }
}

function mapEntry(r: Reader, buf: Uint8Array, end: number, into: Record<string, string>): void {
  const e = new Reader(buf, r.pos, end);
  let key = '';
  let value = '';
  while (!e.done) {
    const tag = e.uint32();
    const no = tag >>> 3;
    const wire = tag & 7;
    if ((no === 1 || no === 2) && wire === LEN) {
      const n = e.length();
      const s = decoder.decode(buf.subarray(e.pos, e.pos + n));
      e.pos += n;
      if (no === 1) key = s;
      else value = s;
    } else e.skip(wire);
  }
  // Own-property write that cannot reach the prototype ("__proto__" as a key is data, not a setter).
  Object.defineProperty(into, key, { value, enumerable: true, writable: true, configurable: true });
  r.pos = end;
}

function decodeRange(schema: Schema, buf: Uint8Array, start: number, end: number): PbObject {
  const out: PbObject = {};
  for (const f of schema) out[f.name] = defaultOf(f);
  const r = new Reader(buf, start, end);
  while (!r.done) {
    const tag = r.uint32();
    const no = tag >>> 3;
    const wire = tag & 7;
    if (no === 0) throw new ProtobufError('field number 0');
    const f = schema.find((x) => x.no === no);
    if (!f) {
      r.skip(wire);
      continue;
    }
    if (f.type === 'map') {
      if (wire !== LEN) throw new ProtobufError(`field ${f.name}: wire type ${wire}, want 2`);
      const n = r.length();
      mapEntry(r, buf, r.pos + n, out[f.name] as Record<string, string>);
      continue;
    }
    let value: unknown;
    if (f.type === 'message') {
      if (wire !== LEN) throw new ProtobufError(`field ${f.name}: wire type ${wire}, want 2`);
      const n = r.length();
      const schemaOf = f.message;
      if (!schemaOf) throw new ProtobufError(`field ${f.name}: no message type`);
      value = decodeRange(schemaOf(), buf, r.pos, r.pos + n);
      r.pos += n;
    } else if (f.repeated && wire === LEN && f.type !== 'string' && f.type !== 'bytes') {
      // Packed repeated numbers (proto3's default for them).
      const n = r.length();
      const packed = new Reader(buf, r.pos, r.pos + n);
      const list = out[f.name] as unknown[];
      while (!packed.done) list.push(scalar(packed, buf, f, VARINT));
      r.pos += n;
      continue;
    } else value = scalar(r, buf, f, wire);
    if (f.repeated) (out[f.name] as unknown[]).push(value);
    else out[f.name] = value; // the last occurrence wins (protobuf's merge rule for scalars)
  }
  return out;
}

/** Decodes one message; throws ProtobufError on malformed input. */
export function decode(schema: Schema, buf: Uint8Array): PbObject {
  return decodeRange(schema, buf, 0, buf.length);
}

// ---- encoding (requests: small, built from our own values) ----

function varintBytes(out: number[], value: number): void {
  // Non-negative integers below 2^53 (negative values are not sent by wirescope).
  let v = value;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
}

function tagBytes(out: number[], no: number, wire: number): void {
  varintBytes(out, no * 8 + wire);
}

function lenBytes(out: number[], no: number, bytes: Uint8Array): void {
  tagBytes(out, no, LEN);
  varintBytes(out, bytes.length);
  for (const b of bytes) out.push(b);
}

function encodeValue(out: number[], f: Field, v: unknown): void {
  switch (f.type) {
    case 'string':
      lenBytes(out, f.no, Buffer.from(String(v), 'utf8'));
      return;
    case 'bytes':
      lenBytes(out, f.no, v as Uint8Array);
      return;
    case 'message': {
      const schemaOf = f.message;
      if (!schemaOf) throw new ProtobufError(`field ${f.name}: no message type`);
      lenBytes(out, f.no, encode(schemaOf(), v as PbObject));
      return;
    }
    case 'enum': {
      const n = typeof v === 'number' ? v : (f.values ?? []).indexOf(String(v));
      if (n < 0) throw new ProtobufError(`field ${f.name}: no enum value ${String(v)}`);
      tagBytes(out, f.no, VARINT);
      varintBytes(out, n);
      return;
    }
    case 'bool':
      tagBytes(out, f.no, VARINT);
      varintBytes(out, v ? 1 : 0);
      return;
    default: {
      const n = Number(v);
      if (!Number.isSafeInteger(n) || n < 0) throw new ProtobufError(`field ${f.name}: cannot send ${n}`);
      tagBytes(out, f.no, VARINT);
      varintBytes(out, n);
    }
  }
}

function isDefault(f: Field, v: unknown): boolean {
  if (v === undefined || v === null) return true;
  switch (f.type) {
    case 'string':
      return v === '';
    case 'bool':
      return v === false;
    case 'bytes':
      return (v as Uint8Array).length === 0;
    case 'enum':
      return v === 0 || v === f.values?.[0];
    case 'message':
      return false;
    default:
      return v === 0;
  }
}

/** Encodes a message (proto3: fields at their default are left out). */
export function encode(schema: Schema, obj: PbObject): Uint8Array {
  const out: number[] = [];
  for (const f of schema) {
    const v = obj[f.name];
    if (v === undefined || v === null) continue;
    if (f.type === 'map') {
      for (const [k, val] of Object.entries(v as Record<string, string>)) {
        const entry: number[] = [];
        if (k !== '') lenBytes(entry, 1, Buffer.from(k, 'utf8'));
        if (val !== '') lenBytes(entry, 2, Buffer.from(String(val), 'utf8'));
        lenBytes(out, f.no, Uint8Array.from(entry));
      }
    } else if (f.repeated) {
      for (const item of v as unknown[]) encodeValue(out, f, item);
    } else if (!isDefault(f, v)) encodeValue(out, f, v);
  }
  return Uint8Array.from(out);
}
