#!/usr/bin/env bash
# Adds a migration named $1 to both engines' histories (Migrations/Sqlite and Migrations/Postgres).
# `dotnet ef` writes the model snapshot over the first GatewayDbContextModelSnapshot.cs it finds in the project, so the
# other engine's snapshot is moved aside while each one runs.
set -euo pipefail
name="${1:?usage: Gateway.Data/add-migration.sh MigrationName}"
cd "$(dirname "$0")/.."
aside="$(mktemp -d)"
run() {  # engine other [args after --]
  local engine="$1" other="$2"; shift 2
  mv "Gateway.Data/Migrations/$other/GatewayDbContextModelSnapshot.cs" "$aside/"
  dotnet ef migrations add "$name" --project Gateway.Data --output-dir "Migrations/$engine" --namespace "Gateway.Data.Migrations.$engine" "$@" \
    || { mv "$aside/GatewayDbContextModelSnapshot.cs" "Gateway.Data/Migrations/$other/"; exit 1; }
  mv "$aside/GatewayDbContextModelSnapshot.cs" "Gateway.Data/Migrations/$other/"
}
run Sqlite Postgres
run Postgres Sqlite -- --provider postgres
rmdir "$aside"
