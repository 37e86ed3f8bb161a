// Fuzz targets: every decoder that reads bytes from a guest (yamux frames, whole yamux
// sessions, ttrpc frames, ttrpc Request/Response envelopes, whole ttrpc server connections).
// Each target names the limits it enforces, seeds inputs at and just over each, and can be
// built with one limit deliberately loosened (TargetOptions.loosen) to prove its checks bite.
import type { FuzzTarget, TargetOptions } from './fuzz-engine.js';
import { muxFrameDecoderTarget, muxSessionTarget } from './fuzz-mux-targets.js';
import { ttrpcFrameDecoderTarget, ttrpcRequestTarget, ttrpcResponseTarget, ttrpcServerTarget } from './fuzz-ttrpc-targets.js';

export function allFuzzTargets(options: TargetOptions = {}): FuzzTarget[] {
  return [
    muxFrameDecoderTarget(options),
    ttrpcFrameDecoderTarget(options),
    ttrpcRequestTarget(options),
    ttrpcResponseTarget(options),
    muxSessionTarget('eager', options),
    muxSessionTarget('stalled', options),
    ttrpcServerTarget(options),
  ];
}
