// A BI tool's view of ViXtract's database, for the journey tests: connects through the PostgreSQL JDBC driver
// the way DBeaver or Visiology do (jdbc:postgresql://HOST:5432/etl?sslmode=...), runs one SQL statement and
// prints the rows it returns as tab-separated values (no header; NULL as an empty field).
//
//   java -cp /usr/share/java/postgresql.jar BiQuery.java URL USER PASSWORD SQL
//
// Exit status: 0 on success, 1 with "SQLException: <message> (SQLState <state>)" on stderr when the driver or
// the server refuses, 2 on wrong usage.
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;

public class BiQuery {
    public static void main(String[] args) {
        if (args.length != 4) {
            System.err.println("usage: java -cp postgresql.jar BiQuery.java URL USER PASSWORD SQL");
            System.exit(2);
        }
        try (Connection conn = DriverManager.getConnection(args[0], args[1], args[2]);
             Statement stmt = conn.createStatement()) {
            boolean isResultSet = stmt.execute(args[3]);
            while (true) {
                if (isResultSet) {
                    try (ResultSet rs = stmt.getResultSet()) {
                        printRows(rs);
                    }
                } else if (stmt.getUpdateCount() == -1) {
                    break;
                } else {
                    System.err.println("updated: " + stmt.getUpdateCount());
                }
                isResultSet = stmt.getMoreResults();
            }
        } catch (SQLException e) {
            System.err.println("SQLException: " + e.getMessage() + " (SQLState " + e.getSQLState() + ")");
            System.exit(1);
        }
    }

    private static void printRows(ResultSet rs) throws SQLException {
        ResultSetMetaData meta = rs.getMetaData();
        int columns = meta.getColumnCount();
        StringBuilder out = new StringBuilder();
        while (rs.next()) {
            for (int i = 1; i <= columns; i++) {
                if (i > 1) {
                    out.append('\t');
                }
                String value = rs.getString(i);
                if (value != null) {
                    out.append(value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n"));
                }
            }
            out.append('\n');
        }
        System.out.print(out);
        System.out.flush();
    }
}
