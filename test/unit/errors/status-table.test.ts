// The one code → status table (src/errors/status.ts): every code, both directions, and
// both edges (gRPC and ttrpc) reading the same table.
import { status as GrpcStatus } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { grpcStatusOf } from '../../../src/api/status.js';
import { STATUS_BY_CODE, StatusCode, VESSEL_ERROR_CODES, VesselError, codeForStatus, errorFromStatus, statusCodeOf } from '../../../src/errors/index.js';
import { TtrpcError, statusFromError } from '../../../src/ttrpc/index.js';

const ALL_STATUSES = Object.values(StatusCode).filter((v): v is StatusCode => typeof v === 'number');

describe('error vocabulary: code → status', () => {
  it('gives every code a status, the same on the gRPC and the ttrpc edge', () => {
    expect(VESSEL_ERROR_CODES).toContain('COMMAND_NOT_FOUND');
    for (const code of VESSEL_ERROR_CODES) {
      const err = new VesselError(code, `failed: ${code}`);
      const status = STATUS_BY_CODE[code];
      expect(status, code).not.toBe(StatusCode.OK);
      expect(statusCodeOf(err), code).toBe(status);
      expect(grpcStatusOf(err) as number, code).toBe(status);
      expect(statusFromError(err), code).toEqual({ code: status, message: `failed: ${code}`, details: [] });
    }
  });

  it('names each status after the generic code of the same name, which maps back to it', () => {
    for (const status of ALL_STATUSES) {
      if (status === StatusCode.OK) continue;
      expect(STATUS_BY_CODE[StatusCode[status] as keyof typeof STATUS_BY_CODE]).toBe(status);
    }
  });

  it('uses the numbers gRPC uses', () => {
    for (const status of ALL_STATUSES) expect(GrpcStatus[StatusCode[status] as keyof typeof GrpcStatus]).toBe(status);
  });

  it('maps what is not a VesselError to UNKNOWN on both edges (as grpc-go does)', () => {
    expect(statusCodeOf(new Error('boom'))).toBe(StatusCode.UNKNOWN);
    expect(grpcStatusOf(new Error('boom'))).toBe(GrpcStatus.UNKNOWN);
    expect(statusFromError('text').code).toBe(StatusCode.UNKNOWN);
  });

  it('agrees on the codes the two old tables disagreed on', () => {
    expect(statusCodeOf(new VesselError('IMAGE_NOT_FOUND', 'x'))).toBe(StatusCode.FAILED_PRECONDITION);
    expect(statusCodeOf(new VesselError('COMMAND_NOT_FOUND', 'x'))).toBe(StatusCode.NOT_FOUND);
  });
});

describe('error vocabulary: received status → code', () => {
  it('turns every status into a VesselError whose code travels back as that status', () => {
    for (const status of ALL_STATUSES) {
      if (status === StatusCode.OK) continue;
      const err = errorFromStatus(status, 'from the peer');
      expect(err).toBeInstanceOf(VesselError);
      expect(err.message).toBe('from the peer');
      expect(err.code).toBe(StatusCode[status]);
      expect(STATUS_BY_CODE[err.code]).toBe(status);
    }
  });

  it('reads a status outside google.rpc.Code (or OK, which is no error) as UNKNOWN', () => {
    expect(codeForStatus(99)).toBe('UNKNOWN');
    expect(codeForStatus(-1)).toBe('UNKNOWN');
    expect(codeForStatus(StatusCode.OK)).toBe('UNKNOWN');
  });

  it('gives a ttrpc status its generic code, so an agent NOT_FOUND is told apart by code', () => {
    const notFound = new TtrpcError(StatusCode.NOT_FOUND, 'no process');
    expect(notFound.code).toBe('NOT_FOUND');
    expect(new TtrpcError(StatusCode.ABORTED, 'x').code).toBe('ABORTED');
    // a status passed through keeps its exact status and details
    const details = [Buffer.from([1, 2])];
    expect(statusFromError(new TtrpcError(StatusCode.ABORTED, 'a', details))).toEqual({ code: StatusCode.ABORTED, message: 'a', details });
  });
});
