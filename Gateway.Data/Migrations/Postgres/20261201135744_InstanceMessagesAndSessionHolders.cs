using Gateway.Data.Postgres;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace Gateway.Data.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class InstanceMessagesAndSessionHolders : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "Holders",
                table: "McpSessions",
                type: "character varying(400)",
                maxLength: 400,
                nullable: false,
                defaultValue: "");

            migrationBuilder.CreateTable(
                name: "InstanceMessages",
                columns: table => new
                {
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    Instance = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    Kind = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    SessionId = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                    Payload = table.Column<string>(type: "character varying(4194304)", maxLength: 4194304, nullable: false),
                    ExpiresAtMs = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_InstanceMessages", x => x.Id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_InstanceMessages_ExpiresAtMs",
                table: "InstanceMessages",
                column: "ExpiresAtMs");

            migrationBuilder.CreateIndex(
                name: "IX_InstanceMessages_Instance_Id",
                table: "InstanceMessages",
                columns: new[] { "Instance", "Id" });

            // A posted message wakes the receiving instance through the change watch (LISTEN), not a poll.
            PostgresSchema.AddChangeNotifications(migrationBuilder, "InstanceMessages");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "InstanceMessages");

            migrationBuilder.DropColumn(
                name: "Holders",
                table: "McpSessions");
        }
    }
}
