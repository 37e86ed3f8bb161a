#!/usr/bin/env node
// `npx vessel`: runs the compiled entry point (dist/ is built by `npm install` via prepare, or `npm run build`).
import '../dist/cmd/vessel.js';
