#!/bin/sh
# deploy_cli.sh: the pipeline `cleanops deploy` builds, scripted the plain way with the AWS CLI:
# one command after another, `aws ... wait` where the CLI has a waiter, a polling loop where it
# does not. Creates exactly the resources of aws/stack/resources.c (stack POC, no email
# subscription), so `cleanops status` reports them healthy; destroy removes them all.
#
#   deploy_cli.sh ENDPOINT_URL ZIP_DIR deploy
#   deploy_cli.sh ENDPOINT_URL - destroy
#
# Credentials and region come from the environment (AWS_ACCESS_KEY_ID ..., AWS_DEFAULT_REGION).
# tests/bench/deploy.sh times it against `cleanops deploy`.
set -eu
[ $# -eq 3 ] || { echo "usage: deploy_cli.sh ENDPOINT_URL ZIP_DIR deploy|destroy" >&2; exit 2; }
URL=$1 ZIPS=$2 OP=$3
ROOT=${ROOT:-$(cd "$(dirname "$0")/../../.." && pwd)}
REGION=${AWS_DEFAULT_REGION:-${AWS_REGION:-us-east-1}}
export AWS_DEFAULT_REGION=$REGION
WORK=$(mktemp -d /tmp/cleanops-deploy-cli-XXXXXX)
trap 'rm -rf "$WORK"' EXIT

aws() { command aws --endpoint-url "$URL" --output text "$@"; }

# poll WHAT CMD...: no CLI waiter for this: ask, sleep a second, ask again (5 minutes at most).
poll() {
	what=$1; shift
	i=0
	until "$@"; do
		i=$((i + 1))
		[ $i -le 300 ] || { echo "timed out waiting for $what" >&2; exit 1; }
		sleep 1
	done
}

ACCOUNT=$(aws sts get-caller-identity --query Account)
POLICIES="Lambda-Write-DynamoDB Lambda-Read-SQS Lambda-DynamoDBStreams-Read Lambda-SNS-Publish APIGateway-SQS-Send"
QARN="arn:aws:sqs:$REGION:$ACCOUNT"
ROLE="arn:aws:iam::$ACCOUNT:role"
POLICY="arn:aws:iam::$ACCOUNT:policy"

render() { # template -> file in WORK
	sed -e "s/\${Region}/$REGION/g" -e "s/\${Account}/$ACCOUNT/g" -e 's/\${Stack}/POC/g' \
		-e 's/\${Prefix}//g' "$1" >"$WORK/$(basename "$1")"
	echo "file://$WORK/$(basename "$1")"
}

role_policies() { # role -> the policies it attaches
	case $1 in
	Lambda-SQS-DynamoDB) echo "Lambda-Write-DynamoDB Lambda-Read-SQS" ;;
	Lambda-DynamoDBStreams-SNS) echo "Lambda-DynamoDBStreams-Read Lambda-SNS-Publish" ;;
	APIGateway-SQS) echo "APIGateway-SQS-Send" ;;
	esac
}

mapping_enabled() { [ "$(aws lambda get-event-source-mapping --uuid "$1" --query State)" = Enabled ]; }
mapping_gone() { [ -z "$(aws lambda list-event-source-mappings --function-name "$1" --query 'EventSourceMappings[].UUID')" ]; }

deploy() {
	# IAM: the five policies, the three roles with their trust policies and attachments
	for p in $POLICIES; do
		aws iam create-policy --policy-name "$p" --policy-document "$(render "$ROOT/policies/$p.json")" >/dev/null
	done
	for r in Lambda-SQS-DynamoDB:lambda Lambda-DynamoDBStreams-SNS:lambda APIGateway-SQS:apigateway; do
		name=${r%%:*}
		aws iam create-role --role-name "$name" \
			--assume-role-policy-document "$(render "$ROOT/policies/trust/${r#*:}.json")" >/dev/null
		for p in $(role_policies "$name"); do
			aws iam attach-role-policy --role-name "$name" --policy-arn "$POLICY/$p"
		done
	done

	# the table and its stream
	aws dynamodb create-table --table-name orders \
		--key-schema AttributeName=orderID,KeyType=HASH \
		--attribute-definitions AttributeName=orderID,AttributeType=S \
		--billing-mode PAY_PER_REQUEST \
		--stream-specification StreamEnabled=true,StreamViewType=NEW_IMAGE >/dev/null
	aws dynamodb wait table-exists --table-name orders
	STREAM=$(aws dynamodb describe-table --table-name orders --query Table.LatestStreamArn)

	# queues, topic, subscription
	aws sqs create-queue --queue-name POC-Queue-DLQ --attributes MessageRetentionPeriod=1209600 >/dev/null
	cat >"$WORK/queue.json" <<EOF
{"VisibilityTimeout": "60",
 "RedrivePolicy": "{\"deadLetterTargetArn\":\"$QARN:POC-Queue-DLQ\",\"maxReceiveCount\":5}",
 "Policy": "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"ApiSends\",\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"$ROLE/APIGateway-SQS\"},\"Action\":\"sqs:SendMessage\",\"Resource\":\"$QARN:POC-Queue\"},{\"Sid\":\"WriterReceives\",\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"$ROLE/Lambda-SQS-DynamoDB\"},\"Action\":[\"sqs:ReceiveMessage\",\"sqs:DeleteMessage\",\"sqs:GetQueueAttributes\",\"sqs:ChangeMessageVisibility\"],\"Resource\":\"$QARN:POC-Queue\"}]}"}
EOF
	aws sqs create-queue --queue-name POC-Queue --attributes "file://$WORK/queue.json" >/dev/null
	aws sqs create-queue --queue-name POC-Stream-Failures --attributes MessageRetentionPeriod=1209600 >/dev/null
	TOPIC=$(aws sns create-topic --name POC-Topic --query TopicArn)
	cat >"$WORK/deliveries.json" <<EOF
{"Policy": "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"TopicDelivers\",\"Effect\":\"Allow\",\"Principal\":{\"Service\":\"sns.amazonaws.com\"},\"Action\":\"sqs:SendMessage\",\"Resource\":\"$QARN:POC-Deliveries\",\"Condition\":{\"ArnEquals\":{\"aws:SourceArn\":\"$TOPIC\"}}}]}"}
EOF
	aws sqs create-queue --queue-name POC-Deliveries --attributes "file://$WORK/deliveries.json" >/dev/null
	aws sns subscribe --topic-arn "$TOPIC" --protocol sqs --notification-endpoint "$QARN:POC-Deliveries" \
		--attributes RawMessageDelivery=true --return-subscription-arn >/dev/null

	# the functions, their log groups and their event source mappings
	case $(uname -m) in aarch64 | arm64) ARCH=arm64 ;; *) ARCH=x86_64 ;; esac
	for f in POC-Lambda-1:Lambda-SQS-DynamoDB POC-Lambda-2:Lambda-DynamoDBStreams-SNS; do
		fn=${f%%:*}
		if [ "$fn" = POC-Lambda-1 ]; then env="Variables={ORDERS_TABLE=orders}"; else env="Variables={TOPIC_ARN=$TOPIC}"; fi
		aws logs create-log-group --log-group-name "/aws/lambda/$fn"
		aws lambda create-function --function-name "$fn" --role "$ROLE/${f#*:}" \
			--runtime provided.al2023 --handler bootstrap --timeout 10 --memory-size 128 \
			--environment "$env" --architectures "$ARCH" --zip-file "fileb://$ZIPS/$fn.zip" >/dev/null
		aws lambda wait function-active-v2 --function-name "$fn"
	done
	M1=$(aws lambda create-event-source-mapping --function-name POC-Lambda-1 \
		--event-source-arn "$QARN:POC-Queue" --batch-size 10 \
		--function-response-types ReportBatchItemFailures --query UUID)
	M2=$(aws lambda create-event-source-mapping --function-name POC-Lambda-2 \
		--event-source-arn "$STREAM" --starting-position TRIM_HORIZON --batch-size 10 \
		--maximum-retry-attempts 3 --bisect-batch-on-function-error \
		--destination-config "OnFailure={Destination=$QARN:POC-Stream-Failures}" \
		--function-response-types ReportBatchItemFailures --query UUID)
	poll "mapping $M1" mapping_enabled "$M1"
	poll "mapping $M2" mapping_enabled "$M2"

	# the API: model, validator, POST on / with the SQS integration, responses, stage prod
	API=$(aws apigateway create-rest-api --name POC-API --description "cleanops order intake" \
		--endpoint-configuration types=REGIONAL --query id)
	ROOTID=$(aws apigateway get-resources --rest-api-id "$API" --query "items[?path=='/'].id")
	aws apigateway create-model --rest-api-id "$API" --name Order --content-type application/json \
		--schema '{"$schema":"http://json-schema.org/draft-04/schema#","title":"Order","type":"object","properties":{"item":{"type":"string","minLength":1,"maxLength":256},"quantity":{"type":"integer","minimum":1,"maximum":10000},"orderID":{"type":"string"},"customerID":{"type":"string"}},"required":["item"],"additionalProperties":false}' >/dev/null
	VAL=$(aws apigateway create-request-validator --rest-api-id "$API" --name body \
		--validate-request-body --no-validate-request-parameters --query id)
	aws apigateway put-method --rest-api-id "$API" --resource-id "$ROOTID" --http-method POST \
		--authorization-type NONE --request-validator-id "$VAL" \
		--request-models application/json=Order >/dev/null
	cat >"$WORK/integration.json" <<'EOF'
{"requestParameters": {"integration.request.header.Content-Type": "'application/x-www-form-urlencoded'"},
 "requestTemplates": {"application/json": "Action=SendMessage&MessageBody=$util.urlEncode($input.body)"}}
EOF
	aws apigateway put-integration --rest-api-id "$API" --resource-id "$ROOTID" --http-method POST \
		--type AWS --integration-http-method POST \
		--uri "arn:aws:apigateway:$REGION:sqs:path/$ACCOUNT/POC-Queue" --credentials "$ROLE/APIGateway-SQS" \
		--passthrough-behavior NEVER --cli-input-json "file://$WORK/integration.json" >/dev/null
	for code in 200 400 500; do
		aws apigateway put-method-response --rest-api-id "$API" --resource-id "$ROOTID" \
			--http-method POST --status-code $code --response-models application/json=Empty >/dev/null
		case $code in
		200) set -- ;;
		400) set -- --selection-pattern '4\d{2}' ;;
		500) set -- --selection-pattern '5\d{2}' ;;
		esac
		aws apigateway put-integration-response --rest-api-id "$API" --resource-id "$ROOTID" \
			--http-method POST --status-code $code "$@" >/dev/null
	done
	aws apigateway create-deployment --rest-api-id "$API" --stage-name prod \
		--description "cleanops deploy" >/dev/null
}

destroy() {
	for api in $(aws apigateway get-rest-apis --limit 500 --query "items[?name=='POC-API'].id"); do
		aws apigateway delete-rest-api --rest-api-id "$api"
	done
	for fn in POC-Lambda-1 POC-Lambda-2; do
		for m in $(aws lambda list-event-source-mappings --function-name "$fn" --query 'EventSourceMappings[].UUID'); do
			aws lambda delete-event-source-mapping --uuid "$m" >/dev/null
		done
		poll "the mappings of $fn deleted" mapping_gone "$fn"
		aws lambda delete-function --function-name "$fn"
		aws logs delete-log-group --log-group-name "/aws/lambda/$fn"
	done
	TOPIC=$(aws sns list-topics --query "Topics[?ends_with(TopicArn, ':POC-Topic')].TopicArn")
	for sub in $(aws sns list-subscriptions-by-topic --topic-arn "$TOPIC" --query 'Subscriptions[].SubscriptionArn'); do
		case $sub in arn:*) aws sns unsubscribe --subscription-arn "$sub" ;; esac
	done
	aws sns delete-topic --topic-arn "$TOPIC"
	for q in POC-Queue POC-Queue-DLQ POC-Stream-Failures POC-Deliveries; do
		aws sqs delete-queue --queue-url "$(aws sqs get-queue-url --queue-name "$q" --query QueueUrl)"
	done
	aws dynamodb delete-table --table-name orders >/dev/null
	aws dynamodb wait table-not-exists --table-name orders
	for name in Lambda-SQS-DynamoDB Lambda-DynamoDBStreams-SNS APIGateway-SQS; do
		for p in $(role_policies "$name"); do
			aws iam detach-role-policy --role-name "$name" --policy-arn "$POLICY/$p"
		done
		aws iam delete-role --role-name "$name"
	done
	for p in $POLICIES; do
		for v in $(aws iam list-policy-versions --policy-arn "$POLICY/$p" --query 'Versions[?!IsDefaultVersion].VersionId'); do
			aws iam delete-policy-version --policy-arn "$POLICY/$p" --version-id "$v"
		done
		aws iam delete-policy --policy-arn "$POLICY/$p"
	done
}

case $OP in
deploy) deploy ;;
destroy) destroy ;;
*) echo "usage: deploy_cli.sh ENDPOINT_URL ZIP_DIR deploy|destroy" >&2; exit 2 ;;
esac
