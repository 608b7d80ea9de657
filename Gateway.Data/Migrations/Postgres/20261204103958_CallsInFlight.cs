using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Gateway.Data.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class CallsInFlight : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "CallsInFlight",
                columns: table => new
                {
                    CallId = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    Sequence = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_CallsInFlight", x => x.CallId);
                });

            // The calls a previous run left in flight (started, no other entry of the call since), found the old way
            // once more, while the index that finds them still exists.
            migrationBuilder.Sql("""
                INSERT INTO "CallsInFlight" ("CallId", "Sequence")
                SELECT s."CallId", MAX(s."Sequence") FROM "AuditEntries" s
                WHERE s."Kind" = 'tool_call.started' AND s."CallId" IS NOT NULL
                  AND NOT EXISTS (SELECT 1 FROM "AuditEntries" c WHERE c."CallId" = s."CallId" AND c."Kind" <> 'tool_call.started')
                GROUP BY s."CallId";
                """);

            migrationBuilder.DropIndex(
                name: "IX_AuditEntries_CallId",
                table: "AuditEntries");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "CallsInFlight");

            migrationBuilder.CreateIndex(
                name: "IX_AuditEntries_CallId",
                table: "AuditEntries",
                column: "CallId");
        }
    }
}
