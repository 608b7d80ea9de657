using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Gateway.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class SiemCheckpointsWitnessStates : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<long>(
                name: "CheckpointSequence",
                table: "SiemCursors",
                type: "INTEGER",
                nullable: false,
                defaultValue: 0L);

            migrationBuilder.CreateTable(
                name: "AuditWitnessStates",
                columns: table => new
                {
                    Witness = table.Column<string>(type: "TEXT", maxLength: 512, nullable: false),
                    LastSequence = table.Column<long>(type: "INTEGER", nullable: false),
                    LastPushedAt = table.Column<long>(type: "INTEGER", nullable: false),
                    LastError = table.Column<string>(type: "TEXT", maxLength: 1024, nullable: true),
                    LastErrorAt = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_AuditWitnessStates", x => x.Witness);
                });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "AuditWitnessStates");

            migrationBuilder.DropColumn(
                name: "CheckpointSequence",
                table: "SiemCursors");
        }
    }
}
