// Hand-written, next to the generated types: a message received through @grpc/proto-loader
// with `oneofs: true` (src/api/proto.ts) carries a virtual field, named after the oneof,
// that names the member that is set. The generated X__Output types have that field and each
// member as optional, unrelated properties; OneofCase relates them so that a switch on the
// field narrows the message.

/**
 * `T` (a generated __Output type) narrowed by its oneof `O`: `{ msg: 'stdout'; stdout: Buffer }`
 * for each member, or `msg` absent when no member is set.
 */
export type OneofCase<T, O extends keyof T> =
  | { [K in NonNullable<T[O]> & keyof T]: Omit<T, O | K> & { [P in O]: K } & { [P in K]-?: NonNullable<T[K]> } }[NonNullable<T[O]> & keyof T]
  | (Omit<T, O> & { [P in O]?: undefined });
