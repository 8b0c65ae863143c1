#!/usr/bin/env node
// Thin shim so npm can link the bin before the TypeScript build has run.
import '../dist/src/worker/main.js';
