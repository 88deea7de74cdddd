// Which broker has which role, as the cluster itself says (Kafka's Admin API): the
// leader of a topic's partition 0, a transactional id's coordinator, a group's
// coordinator and the active controller. Run by the fault suite with Java's
// single-file source launcher and the broker's own jars:
//   java -cp '<kafka lib>/*' KafkaRoles.java BOOTSTRAP TOPIC GROUP TRANSACTIONAL_ID
// Prints four node ids on one line, -1 for a role it could not find.
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.TopicPartitionInfo;

public class KafkaRoles {
    public static void main(String[] args) throws Exception {
        Properties p = new Properties();
        p.put("bootstrap.servers", args[0]);
        p.put("request.timeout.ms", "5000");
        p.put("default.api.timeout.ms", "8000");
        String topic = args[1], group = args[2], txn = args[3];
        int leader = -1, txnCoordinator = -1, groupCoordinator = -1, controller = -1;
        try (Admin admin = Admin.create(p)) {
            try {
                for (TopicPartitionInfo info : admin.describeTopics(List.of(topic)).allTopicNames().get(10, TimeUnit.SECONDS).get(topic).partitions()) {
                    if (info.partition() == 0 && info.leader() != null) leader = info.leader().id();
                }
            } catch (Exception e) { System.err.println("leader: " + e); }
            try {
                txnCoordinator = admin.describeTransactions(List.of(txn)).all().get(10, TimeUnit.SECONDS).get(txn).coordinatorId();
            } catch (Exception e) { System.err.println("transaction coordinator: " + e); }
            try {
                groupCoordinator = admin.describeConsumerGroups(List.of(group)).all().get(10, TimeUnit.SECONDS).get(group).coordinator().id();
            } catch (Exception e) { System.err.println("group coordinator: " + e); }
            try {
                controller = admin.describeMetadataQuorum().quorumInfo().get(10, TimeUnit.SECONDS).leaderId();
            } catch (Exception e) { System.err.println("controller: " + e); }
        }
        System.out.println(leader + " " + txnCoordinator + " " + groupCoordinator + " " + controller);
    }
}
