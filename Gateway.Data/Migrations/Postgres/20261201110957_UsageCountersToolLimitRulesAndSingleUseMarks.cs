using System;
using Gateway.Data.Postgres;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace Gateway.Data.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class UsageCountersToolLimitRulesAndSingleUseMarks : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "SingleUseMarks",
                columns: table => new
                {
                    Key = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                    ExpiresAtMs = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_SingleUseMarks", x => x.Key);
                });

            migrationBuilder.CreateTable(
                name: "ToolLimitRules",
                columns: table => new
                {
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    Name = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    Match = table.Column<string>(type: "character varying(513)", maxLength: 513, nullable: false),
                    RequestsPerMinute = table.Column<int>(type: "integer", nullable: false),
                    MaxConcurrent = table.Column<int>(type: "integer", nullable: false),
                    DailyQuota = table.Column<int>(type: "integer", nullable: false),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    UpdatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_ToolLimitRules", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "UsageCounters",
                columns: table => new
                {
                    AgentId = table.Column<long>(type: "bigint", nullable: false),
                    Rule = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    Span = table.Column<int>(type: "integer", nullable: false),
                    WindowStart = table.Column<long>(type: "bigint", nullable: false),
                    Count = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_UsageCounters", x => new { x.AgentId, x.Rule, x.Span, x.WindowStart });
                });

            migrationBuilder.CreateIndex(
                name: "IX_SingleUseMarks_ExpiresAtMs",
                table: "SingleUseMarks",
                column: "ExpiresAtMs");

            migrationBuilder.CreateIndex(
                name: "IX_ToolLimitRules_Name",
                table: "ToolLimitRules",
                column: "Name",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_UsageCounters_WindowStart",
                table: "UsageCounters",
                column: "WindowStart");

            // Per-tool rules and rejected definitions are part of every instance's snapshot (pins); the counters are
            // exchanged on a timer and the single-use marks read at use, so neither is watched.
            PostgresSchema.AddChangeNotifications(migrationBuilder, "ToolLimitRules", "ToolRejections");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            PostgresSchema.RemoveChangeNotifications(migrationBuilder, "ToolLimitRules", "ToolRejections");

            migrationBuilder.DropTable(
                name: "SingleUseMarks");

            migrationBuilder.DropTable(
                name: "ToolLimitRules");

            migrationBuilder.DropTable(
                name: "UsageCounters");
        }
    }
}
