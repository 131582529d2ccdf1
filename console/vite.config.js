import { defineConfig } from 'vite'

// The console is served under /console/ (make dev's gateway; the stack's
// CloudFront path). No JSX transform: components use htm tagged templates.
export default defineConfig({
  base: '/console/',
  build: { outDir: 'dist', emptyOutDir: true, chunkSizeWarningLimit: 1200 },
})
