using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Gateway.Data.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class GuardrailsFindingsAndServerGuard : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "GuardSecrets",
                table: "Servers",
                type: "character varying(8)",
                maxLength: 8,
                nullable: false,
                defaultValue: "redact");

            migrationBuilder.AddColumn<string>(
                name: "GuardUnicode",
                table: "Servers",
                type: "character varying(8)",
                maxLength: 8,
                nullable: false,
                defaultValue: "strip");

            migrationBuilder.AddColumn<string>(
                name: "LabelsJson",
                table: "Servers",
                type: "text",
                nullable: false,
                defaultValue: "[]");

            migrationBuilder.AddColumn<string>(
                name: "Findings",
                table: "AuditEntries",
                type: "text",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "GuardSecrets",
                table: "Servers");

            migrationBuilder.DropColumn(
                name: "GuardUnicode",
                table: "Servers");

            migrationBuilder.DropColumn(
                name: "LabelsJson",
                table: "Servers");

            migrationBuilder.DropColumn(
                name: "Findings",
                table: "AuditEntries");
        }
    }
}
