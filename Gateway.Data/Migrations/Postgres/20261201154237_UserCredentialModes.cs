using System;
using Gateway.Data.Postgres;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace Gateway.Data.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class UserCredentialModes : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "CredentialMode",
                table: "Servers",
                type: "character varying(16)",
                maxLength: 16,
                nullable: false,
                defaultValue: "shared");

            migrationBuilder.AddColumn<string>(
                name: "ExchangeAudience",
                table: "Servers",
                type: "character varying(2048)",
                maxLength: 2048,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "ExchangeResource",
                table: "Servers",
                type: "character varying(2048)",
                maxLength: 2048,
                nullable: true);

            migrationBuilder.CreateTable(
                name: "RevokedUsers",
                columns: table => new
                {
                    User = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: false),
                    RevokedBy = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: false),
                    RevokedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_RevokedUsers", x => x.User);
                });

            migrationBuilder.CreateTable(
                name: "UserUpstreamTokens",
                columns: table => new
                {
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    Server = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    User = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: false),
                    CredentialCiphertext = table.Column<string>(type: "text", nullable: false),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    UpdatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_UserUpstreamTokens", x => x.Id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_UserUpstreamTokens_Server_User",
                table: "UserUpstreamTokens",
                columns: new[] { "Server", "User" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_UserUpstreamTokens_User",
                table: "UserUpstreamTokens",
                column: "User");

            // Every instance keeps the revoked users in memory: a revocation (or its undoing) must reach them at once.
            PostgresSchema.AddChangeNotifications(migrationBuilder, "RevokedUsers");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            PostgresSchema.RemoveChangeNotifications(migrationBuilder, "RevokedUsers");

            migrationBuilder.DropTable(
                name: "RevokedUsers");

            migrationBuilder.DropTable(
                name: "UserUpstreamTokens");

            migrationBuilder.DropColumn(
                name: "CredentialMode",
                table: "Servers");

            migrationBuilder.DropColumn(
                name: "ExchangeAudience",
                table: "Servers");

            migrationBuilder.DropColumn(
                name: "ExchangeResource",
                table: "Servers");
        }
    }
}
