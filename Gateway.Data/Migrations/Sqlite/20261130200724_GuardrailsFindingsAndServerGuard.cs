using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Gateway.Data.Migrations.Sqlite
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
                type: "TEXT",
                maxLength: 8,
                nullable: false,
                defaultValue: "redact");

            migrationBuilder.AddColumn<string>(
                name: "GuardUnicode",
                table: "Servers",
                type: "TEXT",
                maxLength: 8,
                nullable: false,
                defaultValue: "strip");

            migrationBuilder.AddColumn<string>(
                name: "LabelsJson",
                table: "Servers",
                type: "TEXT",
                nullable: false,
                defaultValue: "[]");

            migrationBuilder.AddColumn<string>(
                name: "Findings",
                table: "AuditEntries",
                type: "TEXT",
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
