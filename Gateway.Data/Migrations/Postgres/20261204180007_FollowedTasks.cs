using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Gateway.Data.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class FollowedTasks : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "FollowedTasks",
                columns: table => new
                {
                    CallId = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    Agent = table.Column<long>(type: "bigint", nullable: false),
                    Binding = table.Column<string>(type: "character varying(8192)", maxLength: 8192, nullable: false),
                    UntilMs = table.Column<long>(type: "bigint", nullable: false),
                    LeaseUntilMs = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_FollowedTasks", x => x.CallId);
                });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "FollowedTasks");
        }
    }
}
