// google.rpc.Code values carried in ttrpc's Response.status.code: the same numbers gRPC
// uses, defined once next to VesselError (src/errors/status.ts).
export { StatusCode as Code } from '../errors/index.js';
