using System;
using Gateway.Data.Postgres;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace Gateway.Data.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class MailboxSessionHoldersSiemCursorsVirtualServers : Migration
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

            migrationBuilder.CreateTable(
                name: "SiemCursors",
                columns: table => new
                {
                    Sink = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    Sequence = table.Column<long>(type: "bigint", nullable: false),
                    LeaseOwner = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: true),
                    LeaseUntil = table.Column<long>(type: "bigint", nullable: false),
                    LastSuccessAt = table.Column<long>(type: "bigint", nullable: false),
                    LastError = table.Column<string>(type: "character varying(1024)", maxLength: 1024, nullable: true),
                    LastErrorAt = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_SiemCursors", x => x.Sink);
                });

            migrationBuilder.CreateTable(
                name: "VirtualServers",
                columns: table => new
                {
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    Name = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    Title = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: true),
                    Description = table.Column<string>(type: "character varying(8192)", maxLength: 8192, nullable: true),
                    Discovery = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    Tools = table.Column<string>(type: "text", nullable: false),
                    Agents = table.Column<string>(type: "text", nullable: false),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    UpdatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_VirtualServers", x => x.Id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_InstanceMessages_ExpiresAtMs",
                table: "InstanceMessages",
                column: "ExpiresAtMs");

            migrationBuilder.CreateIndex(
                name: "IX_InstanceMessages_Instance_Id",
                table: "InstanceMessages",
                columns: new[] { "Instance", "Id" });

            migrationBuilder.CreateIndex(
                name: "IX_VirtualServers_Name",
                table: "VirtualServers",
                column: "Name",
                unique: true);

            // Virtual servers changed on one instance reach the others' snapshots; a posted mailbox message wakes the
            // instance it is for (inserts only: its readers delete what they take). Both through the change watch
            // (LISTEN), not a poll.
            PostgresSchema.AddChangeNotifications(migrationBuilder, "VirtualServers");
            PostgresSchema.AddInsertNotifications(migrationBuilder, "InstanceMessages");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            PostgresSchema.RemoveChangeNotifications(migrationBuilder, "VirtualServers", "InstanceMessages");

            migrationBuilder.DropTable(
                name: "InstanceMessages");

            migrationBuilder.DropTable(
                name: "SiemCursors");

            migrationBuilder.DropTable(
                name: "VirtualServers");

            migrationBuilder.DropColumn(
                name: "Holders",
                table: "McpSessions");
        }
    }
}
