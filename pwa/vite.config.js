// Build of the field worker's app: Preact (JSX by esbuild), Leaflet, a Workbox service worker
// compiled from src/sw.js with the precache manifest injected (vite-plugin-pwa, injectManifest).
import { defineConfig } from 'vite';
import { VitePWA } from 'vite-plugin-pwa';
import pkg from './package.json' with { type: 'json' };

export default defineConfig({
  base: '/',
  define: { __APP_VERSION__: JSON.stringify(pkg.version) },
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  resolve: {
    alias: { react: 'preact/compat', 'react-dom': 'preact/compat' },
  },
  build: {
    target: ['chrome87', 'safari14', 'firefox90'],
    outDir: 'dist',
    emptyOutDir: true,
    assetsInlineLimit: 2048,
    // MapLibre (the command centre's map, ~800 kB, lazy and not precached) is the one big chunk
    chunkSizeWarningLimit: 900,
  },
  server: {
    proxy: { '/api': 'http://127.0.0.1:8000' },
  },
  plugins: [
    VitePWA({
      strategies: 'injectManifest',
      srcDir: 'src',
      filename: 'sw.js',
      // registered by src/lib/swclient.js with workbox-window: no generated register script
      injectRegister: false,
      manifestFilename: 'manifest.webmanifest',
      injectManifest: {
        globPatterns: ['**/*.{js,css,html,svg,png,webmanifest}'],
        // MapLibre is for the command centre on a desktop with a network: the live map is useless
        // offline (its tiles are the server's), and 220 kB gzip would double every worker's shell
        globIgnores: ['**/CaseMap-*'],
        maximumFileSizeToCacheInBytes: 1024 * 1024,
      },
      manifest: {
        id: '/',
        name: 'gridsnap 网格采集',
        short_name: '网格采集',
        description: '网格员采集与核查 · grid worker reports and verification',
        lang: 'zh-CN',
        start_url: '/',
        scope: '/',
        display: 'standalone',
        orientation: 'portrait',
        background_color: '#f4f6f8',
        theme_color: '#0b5cad',
        icons: [
          { src: '/icons/icon-192.png', sizes: '192x192', type: 'image/png' },
          { src: '/icons/icon-512.png', sizes: '512x512', type: 'image/png' },
          { src: '/icons/maskable-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
        ],
      },
    }),
  ],
});
