using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Gateway.Data.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class AgentLimitColumns : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<int>(
                name: "LimitDailyQuota",
                table: "Agents",
                type: "integer",
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "LimitMaxConcurrent",
                table: "Agents",
                type: "integer",
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "LimitRequestsPerMinute",
                table: "Agents",
                type: "integer",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "LimitDailyQuota",
                table: "Agents");

            migrationBuilder.DropColumn(
                name: "LimitMaxConcurrent",
                table: "Agents");

            migrationBuilder.DropColumn(
                name: "LimitRequestsPerMinute",
                table: "Agents");
        }
    }
}
