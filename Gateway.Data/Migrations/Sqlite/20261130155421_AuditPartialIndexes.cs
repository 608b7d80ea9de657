using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Gateway.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class AuditPartialIndexes : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_AuditEntries_Decision_Sequence",
                table: "AuditEntries");

            migrationBuilder.DropIndex(
                name: "IX_AuditEntries_Outcome_Sequence",
                table: "AuditEntries");

            migrationBuilder.CreateIndex(
                name: "IX_AuditEntries_Decision_Sequence",
                table: "AuditEntries",
                columns: new[] { "Decision", "Sequence" },
                filter: "Decision <> 'allow'");

            migrationBuilder.CreateIndex(
                name: "IX_AuditEntries_Outcome_Sequence",
                table: "AuditEntries",
                columns: new[] { "Outcome", "Sequence" },
                filter: "Outcome NOT IN ('ok', 'started')");
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

            migrationBuilder.CreateIndex(
                name: "IX_AuditEntries_Decision_Sequence",
                table: "AuditEntries",
                columns: new[] { "Decision", "Sequence" });

            migrationBuilder.CreateIndex(
                name: "IX_AuditEntries_Outcome_Sequence",
                table: "AuditEntries",
                columns: new[] { "Outcome", "Sequence" });
        }
    }
}
