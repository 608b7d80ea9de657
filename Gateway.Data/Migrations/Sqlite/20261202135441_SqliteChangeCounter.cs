using Gateway.Data.Sqlite;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Gateway.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class SqliteChangeCounter : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // The tables PostgreSQL's notification triggers watch, as they are today (WatchedTables).
            SqliteSchema.CreateChangeCounter(
                migrationBuilder,
                ["Agents", "AgentKeys", "AgentGrants", "PolicyRules", "ToolClassOverrides", "ToolPins", "Servers", "ConsoleUsers", "Approvals", "AuditCheckpoints", "ToolLimitRules", "ToolRejections", "VirtualServers", "RevokedUsers"],
                ["InstanceMessages"]);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            SqliteSchema.DropChangeCounter(
                migrationBuilder,
                "Agents", "AgentKeys", "AgentGrants", "PolicyRules", "ToolClassOverrides", "ToolPins", "Servers", "ConsoleUsers", "Approvals", "AuditCheckpoints", "ToolLimitRules", "ToolRejections", "VirtualServers", "RevokedUsers", "InstanceMessages");
        }
    }
}
