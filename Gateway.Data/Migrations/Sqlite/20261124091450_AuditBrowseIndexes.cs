using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Gateway.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class AuditBrowseIndexes : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateIndex(
                name: "IX_AuditEntries_Decision_Sequence",
                table: "AuditEntries",
                columns: new[] { "Decision", "Sequence" });

            migrationBuilder.CreateIndex(
                name: "IX_AuditEntries_Outcome_Sequence",
                table: "AuditEntries",
                columns: new[] { "Outcome", "Sequence" });

            migrationBuilder.CreateIndex(
                name: "IX_AuditEntries_Tool_Sequence",
                table: "AuditEntries",
                columns: new[] { "Tool", "Sequence" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_AuditEntries_Decision_Sequence",
                table: "AuditEntries");

            migrationBuilder.DropIndex(
                name: "IX_AuditEntries_Outcome_Sequence",
                table: "AuditEntries");

            migrationBuilder.DropIndex(
                name: "IX_AuditEntries_Tool_Sequence",
                table: "AuditEntries");
        }
    }
}
