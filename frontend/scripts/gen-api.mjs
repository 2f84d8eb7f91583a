// Regenerates app/types/schema.d.ts from the backend's OpenAPI schema.
// Usage: npm run gen:api [-- <url-or-file>]  (default http://127.0.0.1:8000/api/schema/)
import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const source = process.argv[2] || process.env.SETKA_SCHEMA || 'http://127.0.0.1:8000/api/schema/'
const out = fileURLToPath(new URL('../app/types/schema.d.ts', import.meta.url))
const bin = fileURLToPath(new URL('../node_modules/.bin/openapi-typescript', import.meta.url))
execFileSync(bin, [source, '-o', out], { stdio: 'inherit', env: { ...process.env, NO_PROXY: '127.0.0.1,localhost' } })
console.log(`wrote ${out} from ${source}`)
