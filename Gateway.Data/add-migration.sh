#!/usr/bin/env bash
# Adds a migration named $1 to both engines' histories (Migrations/Sqlite and Migrations/Postgres), then regenerates
# both engines' compiled models (CompiledModels/, what the gateway runs on) and whole-history scripts
# (Migrations/<engine>/FreshDatabase.sql, what an empty database is created with). Tests fail when either is stale.
# With --model-only, only those are regenerated (after a model change that needs no migration).
# `dotnet ef` writes the model snapshot over the first GatewayDbContextModelSnapshot.cs it finds in the project, so the
# other engine's snapshot is moved aside while each one runs.
set -euo pipefail
name="${1:?usage: Gateway.Data/add-migration.sh MigrationName|--model-only}"
cd "$(dirname "$0")/.."
aside="$(mktemp -d)"
run() {  # engine other [args after --]
  local engine="$1" other="$2"; shift 2
  mv "Gateway.Data/Migrations/$other/GatewayDbContextModelSnapshot.cs" "$aside/"
  dotnet ef migrations add "$name" --project Gateway.Data --output-dir "Migrations/$engine" --namespace "Gateway.Data.Migrations.$engine" "$@" \
    || { mv "$aside/GatewayDbContextModelSnapshot.cs" "Gateway.Data/Migrations/$other/"; exit 1; }
  mv "$aside/GatewayDbContextModelSnapshot.cs" "Gateway.Data/Migrations/$other/"
}
optimize() {  # engine [args after --]
  # Written beside the old model and swapped in: the project (which references the old one) must build for `dotnet ef`.
  # Two compiled models for one context: GatewayDatabase picks one per engine (UseModel), so neither is auto-discovered.
  local engine="$1" dir="Gateway.Data/CompiledModels/$1"; shift
  rm -rf "$dir.new"
  dotnet ef dbcontext optimize --nativeaot --project Gateway.Data --output-dir "CompiledModels/$engine.new" --namespace "Gateway.Data.CompiledModels.$engine" "$@"
  rm "$dir.new/GatewayDbContextAssemblyAttributes.cs"
  rm -rf "$dir" && mv "$dir.new" "$dir"
}
if [ "$name" != "--model-only" ]; then
  run Sqlite Postgres
  run Postgres Sqlite -- --provider postgres
fi
rmdir "$aside"
optimize Sqlite
optimize Postgres --no-build -- --provider postgres
dotnet ef migrations script --project Gateway.Data --no-build --no-transactions -o "$PWD/Gateway.Data/Migrations/Sqlite/FreshDatabase.sql"
dotnet ef migrations script --project Gateway.Data --no-build --no-transactions -o "$PWD/Gateway.Data/Migrations/Postgres/FreshDatabase.sql" -- --provider postgres
