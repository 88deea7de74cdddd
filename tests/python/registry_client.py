"""A bank's own producer and consumer, written with Confluent's Python client and its
Avro serializers against the Schema Registry: the independent client of the registry
test (switch/tests/schema_registry.rs). Not Interlink code.

  registry_client.py produce  BROKERS REGISTRY TOPIC SCHEMA_FILE ID_PREFIX COUNT [--v2]
  registry_client.py consume  BROKERS REGISTRY TOPIC COUNT TIMEOUT_S
  registry_client.py register REGISTRY SUBJECT SCHEMA_FILE

`produce` writes COUNT AuthorizationRequests keyed by transaction id (partitioned as
the Java client does); with --v2 its schema adds an optional field. `consume` prints
each record it reads as one JSON line. `register` prints the id, or the registry's
refusal with exit code 3.
"""
import json
import sys
import time

from confluent_kafka import Consumer, Producer
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.schema_registry.error import SchemaRegistryError
from confluent_kafka.serialization import MessageField, SerializationContext


def v2_schema(text):
    schema = json.loads(text)
    schema["fields"].append(
        {"name": "initiating_app", "type": ["null", "string"], "default": None, "doc": "v2: the app that started it."}
    )
    return json.dumps(schema)


def request(tx, v2):
    r = {
        "transaction_id": tx,
        "end_to_end_id": "E2E-" + tx,
        "created_at": int(time.time() * 1_000_000),
        "debtor_agent": {"network": "CN_IBPS", "institution_id": "102100099996"},
        "debtor_account": "6222020200112233445",
        "creditor_agent": {"network": "HK_FPS", "institution_id": "004"},
        "creditor_account": "004-123456-001",
        "qr_payload": None,
        "creditor_alias": None,
        "amount": {"minor_units": 10_000, "currency": "CNY"},
        "channel": "MOBILE",
        "purpose": None,
    }
    if v2:
        r["initiating_app"] = "bank-app 7.1"
    return r


def produce(brokers, registry, topic, schema_file, prefix, count, v2):
    text = open(schema_file).read()
    if v2:
        text = v2_schema(text)
    client = SchemaRegistryClient({"url": registry})
    serializer = AvroSerializer(client, text, conf={"auto.register.schemas": True})
    producer = Producer({"bootstrap.servers": brokers, "partitioner": "murmur2_random", "enable.idempotence": True})
    for i in range(count):
        tx = f"{prefix}-{i:03d}"
        value = serializer(request(tx, v2), SerializationContext(topic, MessageField.VALUE))
        producer.produce(topic, key=tx.encode(), value=value)
    if producer.flush(30) != 0:
        sys.exit("records left unsent")
    print(json.dumps({"produced": count, "schema_id": int.from_bytes(value[1:5], "big")}))


def consume(brokers, registry, topic, count, timeout):
    client = SchemaRegistryClient({"url": registry})
    deserializer = AvroDeserializer(client)
    consumer = Consumer(
        {
            "bootstrap.servers": brokers,
            "group.id": "bank-python-" + topic,
            "auto.offset.reset": "earliest",
            "isolation.level": "read_committed",
        }
    )
    consumer.subscribe([topic])
    seen, deadline = 0, time.time() + timeout
    while seen < count and time.time() < deadline:
        m = consumer.poll(0.5)
        if m is None or m.error():
            continue
        record = deserializer(m.value(), SerializationContext(topic, MessageField.VALUE))
        record["schema_id"] = int.from_bytes(m.value()[1:5], "big")
        print(json.dumps(record, default=str), flush=True)
        seen += 1
    consumer.close()


def register(registry, subject, schema_file):
    client = SchemaRegistryClient({"url": registry})
    try:
        print(client.register_schema(subject, Schema(open(schema_file).read(), "AVRO")))
    except SchemaRegistryError as e:
        print(f"refused: {e.http_status_code} {e.error_message}")
        sys.exit(3)


if __name__ == "__main__":
    command, args = sys.argv[1], sys.argv[2:]
    if command == "produce":
        produce(args[0], args[1], args[2], args[3], args[4], int(args[5]), "--v2" in args[6:])
    elif command == "consume":
        consume(args[0], args[1], args[2], int(args[3]), float(args[4]))
    elif command == "register":
        register(args[0], args[1], args[2])
    else:
        sys.exit(__doc__)
