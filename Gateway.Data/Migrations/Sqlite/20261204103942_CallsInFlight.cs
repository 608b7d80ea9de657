using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Gateway.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class CallsInFlight : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // WITHOUT ROWID: the call id is the table's one B-tree, so a call's start or end writes one page, as the
            // CallId index of AuditEntries did (a rowid table would add its primary key's index: two).
            migrationBuilder.Sql("""
                CREATE TABLE "CallsInFlight" (
                    "CallId" TEXT NOT NULL CONSTRAINT "PK_CallsInFlight" PRIMARY KEY,
                    "Sequence" INTEGER NOT NULL
                ) WITHOUT ROWID;
                """);

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
