using Gateway.Data.Sqlite;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Gateway.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class SqliteChangeCounter : Migration
    {
        // The tables PostgreSQL's notification triggers watch, as they are at this migration (WatchedTables).
        private static readonly string[] Tables =
            ["Agents", "AgentKeys", "AgentGrants", "PolicyRules", "ToolClassOverrides", "ToolPins", "Servers", "ConsoleUsers", "Approvals", "AuditCheckpoints", "ToolLimitRules", "ToolRejections", "VirtualServers", "RevokedUsers"];

        private static readonly string[] InsertOnlyTables = ["InstanceMessages"];

        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            SqliteSchema.CreateChangeCounter(migrationBuilder, Tables, InsertOnlyTables);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            SqliteSchema.DropChangeCounter(migrationBuilder, [.. Tables, .. InsertOnlyTables]);
        }
    }
}
