using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Gateway.Data.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class RevokedUserReasonsMcpSessionOAuthCredentialLength : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "Reason",
                table: "RevokedUsers",
                type: "character varying(32)",
                maxLength: 32,
                nullable: false,
                // Revocations made before reasons existed were all an admin's.
                defaultValue: "Admin");

            migrationBuilder.AlterColumn<string>(
                name: "KeyHash",
                table: "McpSessions",
                type: "character varying(70)",
                maxLength: 70,
                nullable: false,
                oldClrType: typeof(string),
                oldType: "character varying(64)",
                oldMaxLength: 64);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "Reason",
                table: "RevokedUsers");

            migrationBuilder.AlterColumn<string>(
                name: "KeyHash",
                table: "McpSessions",
                type: "character varying(64)",
                maxLength: 64,
                nullable: false,
                oldClrType: typeof(string),
                oldType: "character varying(70)",
                oldMaxLength: 70);
        }
    }
}
