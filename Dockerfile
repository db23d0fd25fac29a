# syntax=docker/dockerfile:1
# The inbox server as a container: built with the dev dependencies in one stage, run with only the
# runtime ones as the unprivileged `node` user. Several replicas: see compose.yaml and the README
# ("Running several servers").

# --- build: compile src/ into dist/ (server bundle, embedded-database template, chat widget)
FROM node:20-bookworm-slim AS build
WORKDIR /app
# The Prisma CLI reads DATABASE_URL even to generate the client offline (see prisma.config.ts).
ENV DATABASE_URL=postgresql://localhost:5432/unused
COPY package.json package-lock.json ./
# Dependencies' install scripts only download engines this build does not use; our postinstall
# needs the sources, so it runs below instead.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json prisma.config.ts ./
COPY prisma ./prisma
COPY scripts ./scripts
COPY widget ./widget
COPY src ./src
RUN npx prisma generate && npx tsx scripts/build-widget.ts && npm run build

# --- runtime dependencies only: no tsx, no Prisma CLI, no test tools
FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

# --- runtime
FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=4000 \
    DATA_DIR=/data
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
# The server reads its migrations and the widget's sources (to check dist/widget) at run time.
COPY --from=build /app/prisma/migrations ./prisma/migrations
COPY --from=build /app/widget ./widget
COPY --from=build /app/dist ./dist
# DATA_DIR: stored files (attachments), and the embedded database when DATABASE_URL is unset.
RUN mkdir -p /data && chown node:node /data
VOLUME ["/data"]
USER node
EXPOSE 4000
# /health answers 200 when the database answers SELECT 1, 503 otherwise.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 4000) + '/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# The same command as `npm run start:dist` (what `npm start` runs once dist/ is current).
CMD ["node", "--enable-source-maps", "dist/server/index.js"]
