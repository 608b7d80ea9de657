using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Gateway.Data.Migrations.Sqlite
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
                type: "TEXT",
                maxLength: 16,
                nullable: false,
                defaultValue: "shared");

            migrationBuilder.AddColumn<string>(
                name: "ExchangeAudience",
                table: "Servers",
                type: "TEXT",
                maxLength: 2048,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "ExchangeResource",
                table: "Servers",
                type: "TEXT",
                maxLength: 2048,
                nullable: true);

            migrationBuilder.CreateTable(
                name: "RevokedUsers",
                columns: table => new
                {
                    User = table.Column<string>(type: "TEXT", maxLength: 256, nullable: false),
                    RevokedBy = table.Column<string>(type: "TEXT", maxLength: 256, nullable: false),
                    RevokedAt = table.Column<DateTimeOffset>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_RevokedUsers", x => x.User);
                });

            migrationBuilder.CreateTable(
                name: "UserUpstreamTokens",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    Server = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    User = table.Column<string>(type: "TEXT", maxLength: 256, nullable: false),
                    CredentialCiphertext = table.Column<string>(type: "TEXT", nullable: false),
                    CreatedAt = table.Column<DateTimeOffset>(type: "TEXT", nullable: false),
                    UpdatedAt = table.Column<DateTimeOffset>(type: "TEXT", nullable: false)
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
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
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
