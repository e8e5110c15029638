#!/usr/bin/env python3
# services_gen.py: writes or checks aws/client/svc_*.c (the operation tables) from botocore.
"""Generate the C operation tables of aws/client from the installed botocore models.

    python3 tests/tools/services_gen.py --check   # default: regenerate in memory and diff
    python3 tests/tools/services_gen.py --write   # rewrite aws/client/svc_*.c
    python3 tests/tools/services_gen.py --dump SERVICE OP   # show one row as the model gives it

The lists of operations below are the only hand-written input. Every value in a row (method,
URI, locations, payloads, renames, query-protocol shape hints, pagination tokens) is read from
botocore's service-2.json and paginators-1.json, plus the few paginations botocore does not model
(EXTRA_PAGES). Anything the row format cannot express is reported as an error, so a model update
that needs new client support fails loudly instead of producing a wrong table.
Exit status: 0 ok, 1 tables differ from the model (or --write needed), 2 model not usable here.
"""
import gzip
import json
import os
import sys

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..'))

# service -> (model version, C file, protocol label for the file comment, operations)
SERVICES = {
    'sqs': ('2012-11-05', 'Amazon SQS', [
        'AddPermission', 'CancelMessageMoveTask', 'ChangeMessageVisibility',
        'ChangeMessageVisibilityBatch', 'CreateQueue', 'DeleteMessage', 'DeleteMessageBatch',
        'DeleteQueue', 'GetQueueAttributes', 'GetQueueUrl', 'ListDeadLetterSourceQueues',
        'ListMessageMoveTasks', 'ListQueueTags', 'ListQueues', 'PurgeQueue', 'ReceiveMessage',
        'RemovePermission', 'SendMessage', 'SendMessageBatch', 'SetQueueAttributes',
        'StartMessageMoveTask', 'TagQueue', 'UntagQueue']),
    'dynamodb': ('2012-08-10', 'Amazon DynamoDB', [
        'BatchGetItem', 'BatchWriteItem', 'CreateTable', 'DeleteItem', 'DeleteTable',
        'DescribeContinuousBackups', 'DescribeEndpoints', 'DescribeLimits', 'DescribeTable',
        'DescribeTimeToLive', 'GetItem', 'ListTables', 'ListTagsOfResource', 'PutItem', 'Query',
        'Scan', 'TagResource', 'TransactGetItems', 'TransactWriteItems', 'UntagResource',
        'UpdateItem', 'UpdateTable', 'UpdateTimeToLive']),
    'dynamodbstreams': ('2012-08-10', 'DynamoDB Streams', [
        'DescribeStream', 'GetRecords', 'GetShardIterator', 'ListStreams']),
    'sns': ('2010-03-31', 'Amazon SNS', [
        'ConfirmSubscription', 'CreateTopic', 'DeleteTopic', 'GetSubscriptionAttributes',
        'GetTopicAttributes', 'ListSubscriptions', 'ListSubscriptionsByTopic',
        'ListTagsForResource', 'ListTopics', 'Publish', 'PublishBatch',
        'SetSubscriptionAttributes', 'SetTopicAttributes', 'Subscribe', 'TagResource',
        'Unsubscribe', 'UntagResource']),
    'iam': ('2010-05-08', 'AWS IAM', [
        'AttachRolePolicy', 'AttachUserPolicy', 'CreateAccessKey', 'CreatePolicy',
        'CreatePolicyVersion', 'CreateRole', 'CreateUser', 'DeleteAccessKey', 'DeletePolicy',
        'DeletePolicyVersion', 'DeleteRole', 'DeleteRolePolicy', 'DeleteUser',
        'DeleteUserPolicy', 'DetachRolePolicy', 'DetachUserPolicy', 'GetPolicy',
        'GetPolicyVersion', 'GetRole', 'GetRolePolicy', 'GetUser', 'GetUserPolicy',
        'ListAccessKeys', 'ListAttachedRolePolicies', 'ListAttachedUserPolicies',
        'ListEntitiesForPolicy', 'ListPolicies', 'ListPolicyTags', 'ListPolicyVersions',
        'ListRolePolicies', 'ListRoleTags', 'ListRoles', 'ListUserPolicies', 'ListUsers',
        'PutRolePolicy', 'PutUserPolicy', 'TagPolicy', 'TagRole', 'UntagPolicy', 'UntagRole',
        'UpdateAccessKey', 'UpdateAssumeRolePolicy', 'UpdateRole']),
    'sts': ('2011-06-15', 'AWS STS', [
        'AssumeRole', 'GetAccessKeyInfo', 'GetCallerIdentity', 'GetSessionToken']),
    'lambda': ('2015-03-31', 'AWS Lambda', [
        'AddPermission', 'CreateEventSourceMapping', 'CreateFunction',
        'DeleteEventSourceMapping', 'DeleteFunction', 'DeleteFunctionConcurrency',
        'GetAccountSettings', 'GetEventSourceMapping', 'GetFunction', 'GetFunctionConcurrency',
        'GetFunctionConfiguration', 'GetPolicy', 'Invoke', 'ListEventSourceMappings',
        'ListFunctions', 'ListTags', 'ListVersionsByFunction', 'PublishVersion',
        'PutFunctionConcurrency', 'RemovePermission', 'TagResource', 'UntagResource',
        'UpdateEventSourceMapping', 'UpdateFunctionCode', 'UpdateFunctionConfiguration']),
    'apigateway': ('2015-07-09', 'API Gateway REST v1', [
        'CreateDeployment', 'CreateModel', 'CreateRequestValidator', 'CreateResource',
        'CreateRestApi', 'CreateStage', 'DeleteDeployment', 'DeleteIntegration',
        'DeleteIntegrationResponse', 'DeleteMethod', 'DeleteMethodResponse', 'DeleteModel',
        'DeleteRequestValidator', 'DeleteResource', 'DeleteRestApi', 'DeleteStage',
        'GetAccount', 'GetDeployment', 'GetDeployments', 'GetIntegration',
        'GetIntegrationResponse', 'GetMethod', 'GetMethodResponse', 'GetModel', 'GetModels',
        'GetRequestValidator', 'GetRequestValidators', 'GetResource', 'GetResources',
        'GetRestApi', 'GetRestApis', 'GetStage', 'GetStages', 'GetTags', 'PutIntegration',
        'PutIntegrationResponse', 'PutMethod', 'PutMethodResponse', 'TagResource',
        'UntagResource', 'UpdateAccount', 'UpdateDeployment', 'UpdateIntegration',
        'UpdateIntegrationResponse', 'UpdateMethod', 'UpdateMethodResponse', 'UpdateModel',
        'UpdateRequestValidator', 'UpdateResource', 'UpdateRestApi', 'UpdateStage']),
    'logs': ('2014-03-28', 'Amazon CloudWatch Logs', [
        'CreateLogGroup', 'CreateLogStream', 'DeleteLogGroup', 'DeleteLogStream',
        'DeleteRetentionPolicy', 'DescribeLogGroups', 'DescribeLogStreams', 'FilterLogEvents',
        'GetLogEvents', 'ListTagsForResource', 'PutLogEvents', 'PutRetentionPolicy',
        'TagResource', 'UntagResource']),
}

# Global services: one endpoint for every region, signed in us-east-1.
GLOBAL = {'iam'}

# Pagination botocore has no paginator for (AWS-FACTS.md section 15): op -> (in, out, more).
EXTRA_PAGES = {
    ('logs', 'GetLogEvents'): ('nextToken', 'nextForwardToken', None),
    ('dynamodbstreams', 'ListStreams'): ('ExclusiveStartStreamArn', 'LastEvaluatedStreamArn', None),
}

# Renames whose wire name is also a plain member elsewhere in the same operation. PutIntegration
# sends integrationHttpMethod as "httpMethod" while its reply (an Integration) has a plain
# httpMethod; a protocol applying the rename to the reply too shows it as integrationHttpMethod.
KNOWN_RENAME_CLASHES = {('apigateway', 'PutIntegration', 'integrationHttpMethod')}

PROTO_ENUM = {'json': 'AWS_PROTO_JSON', 'rest-json': 'AWS_PROTO_REST_JSON',
              'query': 'AWS_PROTO_QUERY'}


class ModelError(Exception):
    pass


def data_dir():
    try:
        import botocore
    except ImportError:
        return None
    return os.path.join(os.path.dirname(botocore.__file__), 'data')


def load_json(path):
    if os.path.exists(path):
        with open(path, encoding='utf-8') as f:
            return json.load(f)
    with gzip.open(path + '.gz', 'rt', encoding='utf-8') as f:
        return json.load(f)


def load(service):
    version = SERVICES[service][0]
    base = os.path.join(data_dir(), service, version)
    model = load_json(os.path.join(base, 'service-2.json'))
    pages = {}
    if os.path.exists(os.path.join(base, 'paginators-1.json')):
        pages = load_json(os.path.join(base, 'paginators-1.json'))['pagination']
    return model, pages


def join_pairs(pairs):
    return ','.join('%s=%s' % p for p in pairs) if pairs else None


def body_renames(model, shape_name, out, seen):
    """Collect (member, wire) for body members whose JSON key differs from the member name."""
    if shape_name in seen:
        return
    seen.add(shape_name)
    shape = model['shapes'][shape_name]
    kind = shape['type']
    if kind == 'structure':
        for mname, m in shape.get('members', {}).items():
            if m.get('location'):
                continue
            wire = m.get('locationName', mname)
            if wire != mname:
                out.add((mname, wire))
            body_renames(model, m['shape'], out, seen)
    elif kind == 'list':
        body_renames(model, shape['member']['shape'], out, seen)
    elif kind == 'map':
        body_renames(model, shape['value']['shape'], out, seen)


def body_names(model, shape_name, out, seen):
    """Every body member name (JSON key as the caller sees it) under shape_name."""
    if shape_name in seen:
        return
    seen.add(shape_name)
    shape = model['shapes'][shape_name]
    kind = shape['type']
    if kind == 'structure':
        for mname, m in shape.get('members', {}).items():
            if m.get('location'):
                continue
            out.add(mname)
            body_names(model, m['shape'], out, seen)
    elif kind == 'list':
        body_names(model, shape['member']['shape'], out, seen)
    elif kind == 'map':
        body_names(model, shape['value']['shape'], out, seen)


def query_hints(model, shape_name, hints, errors, where, seen, output=False):
    """Collect query-protocol typing hints by element name: list, flatlist, map, bool, int,
    and in replies jsondoc (botocore's json_decode_policies: IAM strings of shape
    policyDocumentType are URL-encoded JSON that boto3 shows decoded)."""
    if shape_name in seen:
        return
    seen.add(shape_name)
    shape = model['shapes'][shape_name]
    if shape['type'] != 'structure':
        return
    for mname, m in shape.get('members', {}).items():
        name = m.get('locationName', mname)
        if name != mname:
            errors.append('%s: member %s has XML/query name %s (no rename support)'
                          % (where, mname, name))
        ms = model['shapes'][m['shape']]
        kind = ms['type']
        hint = None
        child = None
        if kind == 'list':
            elem = ms['member'].get('locationName', 'member')
            if ms.get('flattened'):
                hint = 'flatlist'
                if elem != 'member' and elem != name:
                    errors.append('%s: flattened list %s has element name %s'
                                  % (where, name, elem))
            else:
                hint = 'list'
                if elem != 'member':
                    errors.append('%s: list %s uses element <%s>, not <member>'
                                  % (where, name, elem))
            child = ms['member']['shape']
        elif kind == 'map':
            if ms.get('flattened'):
                errors.append('%s: flattened map %s' % (where, name))
            k = ms['key'].get('locationName', 'key')
            v = ms['value'].get('locationName', 'value')
            hint = 'map' if (k, v) == ('key', 'value') else 'map(%s,%s)' % (k, v)
            child = ms['value']['shape']
        elif kind == 'boolean':
            hint = 'bool'
        elif kind in ('integer', 'long'):
            hint = 'int'
        elif kind in ('float', 'double'):
            errors.append('%s: %s is a %s (no hint for numbers with fractions)'
                          % (where, name, kind))
        elif kind == 'structure':
            child = m['shape']
            if output:
                hint = 'struct'  # an empty element reads as {}, as boto3 shows it
        elif kind == 'string' and m['shape'] == 'policyDocumentType' and output:
            hint = 'jsondoc'
        if hint:
            old = hints.get(name)
            if old and old != hint:
                errors.append('%s: %s is both %s and %s' % (where, name, old, hint))
            hints[name] = hint
        if child and model['shapes'][child]['type'] in ('structure', 'list', 'map'):
            sub = model['shapes'][child]
            # lists of lists / maps of lists: descend to the structure inside
            while sub['type'] in ('list', 'map'):
                child = sub['member']['shape'] if sub['type'] == 'list' else sub['value']['shape']
                sub = model['shapes'][child]
            query_hints(model, child, hints, errors, where, seen, output)


def member_items(model, shape_name):
    if not shape_name:
        return []
    return list(model['shapes'][shape_name].get('members', {}).items())


def build_op(service, model, pages, name, errors):
    meta = model['metadata']
    proto = meta['protocol']
    op = model['operations'].get(name)
    if op is None:
        raise ModelError('%s: no operation %s in the model' % (service, name))
    where = '%s.%s' % (service, name)
    row = {'name': name}
    in_shape = op.get('input', {}).get('shape')
    out_shape = op.get('output', {}).get('shape')
    if op.get('endpoint', {}).get('hostPrefix'):
        errors.append('%s: endpoint hostPrefix %s not supported'
                      % (where, op['endpoint']['hostPrefix']))
    if proto == 'rest-json':
        http = op['http']
        uri = http['requestUri']
        if '?' in uri:
            errors.append('%s: static query string in %s' % (where, uri))
        query, headers = [], []
        for mname, m in member_items(model, in_shape):
            loc = m.get('location')
            wire = m.get('locationName', mname)
            mtype = model['shapes'][m['shape']]['type']
            if loc == 'uri':
                label_found = False
                for fmt in ('{%s}', '{%s+}'):
                    if fmt % wire in uri:
                        uri = uri.replace(fmt % wire, fmt % mname)
                        label_found = True
                if not label_found:
                    errors.append('%s: uri label %s not in %s' % (where, wire, uri))
            elif loc == 'querystring':
                if mtype == 'map':
                    errors.append('%s: querystring map %s not supported' % (where, mname))
                query.append((wire, mname))
            elif loc == 'header':
                if m.get('jsonvalue') or model['shapes'][m['shape']].get('jsonvalue'):
                    errors.append('%s: jsonvalue header %s' % (where, mname))
                headers.append((wire, mname))
            elif loc:
                errors.append('%s: input location %s for %s' % (where, loc, mname))
        row['method'] = http['method']
        row['uri'] = uri
        row['query'] = join_pairs(query)
        row['headers'] = join_pairs(headers)
        inp = model['shapes'][in_shape] if in_shape else {}
        if inp.get('payload'):
            pm = inp['members'][inp['payload']]
            if model['shapes'][pm['shape']]['type'] not in ('blob', 'string'):
                errors.append('%s: structure payload %s' % (where, inp['payload']))
            row['payload'] = inp['payload']
        out_headers, out_status = [], None
        for mname, m in member_items(model, out_shape):
            loc = m.get('location')
            if loc == 'header':
                out_headers.append((m.get('locationName', mname), mname))
            elif loc == 'statusCode':
                out_status = mname
            elif loc:
                errors.append('%s: output location %s for %s' % (where, loc, mname))
        row['out_headers'] = join_pairs(out_headers)
        out = model['shapes'][out_shape] if out_shape else {}
        if out.get('payload'):
            pm = out['members'][out['payload']]
            if model['shapes'][pm['shape']]['type'] not in ('blob', 'string'):
                errors.append('%s: structure output payload %s' % (where, out['payload']))
            row['out_payload'] = out['payload']
        row['out_status'] = out_status
    if proto in ('rest-json', 'json'):
        ren_in, ren_out = set(), set()
        if in_shape:
            body_renames(model, in_shape, ren_in, set())
        if out_shape:
            body_renames(model, out_shape, ren_out, set())
        ren = ren_in | ren_out
        if ren:
            # a rename applies to every key of that name in the body, in its direction(s):
            # it must not hit a plain member of the same name in that direction
            for member, wire in sorted(ren):
                if (service, name, member) in KNOWN_RENAME_CLASHES:
                    continue
                for pairs, s in ((ren_in, in_shape), (ren_out, out_shape)):
                    names = set()
                    if s and (member, wire) in pairs:
                        body_names(model, s, names, set())
                    if wire in names and wire not in (r[0] for r in pairs):
                        errors.append('%s: rename %s=%s also hits a plain member %s'
                                      % (where, member, wire, wire))
            parts = []
            for member, wire in sorted(ren):
                op_ = '=' if (member, wire) in ren_in and (member, wire) in ren_out else \
                    ('>' if (member, wire) in ren_in else '<')
                parts.append('%s%s%s' % (member, op_, wire))
            row['renames'] = ','.join(parts)
    if proto == 'query':
        hints = {}
        for s, is_out in ((in_shape, False), (out_shape, True)):
            if s:
                query_hints(model, s, hints, errors, where, set(), is_out)
        row['shapes'] = ','.join('%s:%s' % (k, v) for k, v in sorted(hints.items())) or None
        wrapper = op.get('output', {}).get('resultWrapper')
        if out_shape and wrapper != name + 'Result':
            errors.append('%s: result wrapper %s' % (where, wrapper))
    page = pages.get(name)
    if page:
        tin, tout, more = page['input_token'], page['output_token'], page.get('more_results')
        for t in (tin, tout):
            if not isinstance(t, str) or '.' in t:
                errors.append('%s: paginator token %r not supported' % (where, t))
        row['page_in'], row['page_out'], row['page_more'] = tin, tout, more
    elif (service, name) in EXTRA_PAGES:
        row['page_in'], row['page_out'], row['page_more'] = EXTRA_PAGES[(service, name)]
    return row


FIELDS = ['name', 'method', 'uri', 'query', 'headers', 'payload', 'out_headers', 'out_payload',
          'out_status', 'renames', 'shapes', 'page_in', 'page_out', 'page_more']


def c_string(value, indent, prefix):
    """A C string literal, split into adjacent literals (after commas, before slashes) to keep
    lines within 100 columns."""
    text = '"%s"' % value
    width = len(indent.expandtabs(8))
    if width + len(prefix) + len(text) + 1 <= 100:
        return text
    pieces, cur = [], ''
    for ch in value:
        if ch == '/' and cur:
            pieces.append(cur)
            cur = ''
        cur += ch
        if ch == ',':
            pieces.append(cur)
            cur = ''
    if cur:
        pieces.append(cur)
    parts, cur = [], ''
    for piece in pieces:
        if cur and width + 8 + len(cur) + len(piece) + 3 > 100:
            parts.append(cur)
            cur = ''
        cur += piece
    parts.append(cur)
    return ('\n' + indent + '\t').join('"%s"' % p for p in parts)


def env_key(model):
    return model['metadata']['serviceId'].replace(' ', '_').upper()


def render(service, errors):
    model, pages = load(service)
    meta = model['metadata']
    version, title, ops = SERVICES[service]
    proto = meta['protocol']
    if proto not in PROTO_ENUM:
        raise ModelError('%s: protocol %s' % (service, proto))
    rows = [build_op(service, model, pages, n, errors) for n in sorted(set(ops))]
    label = {'json': 'awsJson %s' % meta.get('jsonVersion'), 'rest-json': 'rest-json',
             'query': 'query, XML replies'}[proto]
    out = []
    out.append('/* svc_%s.c: %s (%s) operation rows, generated from botocore. */'
               % (service, title, label))
    out.append('/* Written by tests/tools/services_gen.py --write: change its operation list, not '
               'this file.\n * Rows are sorted by name: aws_service_op() bisects them. */')
    out.append('#include "services_list.h"')
    out.append('')
    out.append('static const struct aws_op ops[] = {')
    for row in rows:
        fields = [(f, row[f]) for f in FIELDS if row.get(f) is not None]
        one = '\t{ %s },' % ', '.join('.%s = "%s"' % fv for fv in fields)
        if len(one.expandtabs(8)) <= 100:
            out.append(one)
            continue
        out.append('\t{')
        for f, v in fields:
            prefix = '.%s = ' % f
            out.append('\t\t%s%s,' % (prefix, c_string(v, '\t\t', prefix)))
        out.append('\t},')
    out.append('};')
    out.append('')
    svc = [
        ('name', '"%s"' % service),
        ('signing_name', '"%s"' % meta.get('signingName', meta['endpointPrefix'])),
        ('host_prefix', '"%s"' % meta['endpointPrefix']),
        ('env_key', '"%s"' % env_key(model)),
        ('config_key', '"%s"' % env_key(model).lower()),
        ('global', '1' if service in GLOBAL else '0'),
        ('protocol', PROTO_ENUM[proto]),
    ]
    if proto == 'json':
        svc.append(('json_version', '"%s"' % meta['jsonVersion']))
        svc.append(('target_prefix', '"%s"' % meta['targetPrefix']))
    svc.append(('api_version', '"%s"' % meta['apiVersion']))
    if meta.get('xmlNamespace'):
        svc.append(('xml_ns', '"%s"' % meta['xmlNamespace']))
    svc.append(('ops', 'ops'))
    svc.append(('nops', 'sizeof ops / sizeof ops[0]'))
    out.append('const struct aws_service aws_svc_%s = {' % service)
    for k, v in svc:
        out.append('\t.%s = %s,' % (k, v))
    out.append('};')
    return '\n'.join(out) + '\n'


def path_of(service):
    return os.path.join(ROOT, 'aws', 'client', 'svc_%s.c' % service)


def main(argv):
    if data_dir() is None:
        print('SKIP: botocore is not installed; cannot check the tables against the models')
        return 2
    mode = argv[1] if len(argv) > 1 else '--check'
    if mode == '--dump':
        model, pages = load(argv[2])
        errors = []
        print(json.dumps(build_op(argv[2], model, pages, argv[3], errors), indent=1))
        for e in errors:
            print('error:', e)
        return 1 if errors else 0
    errors, stale = [], []
    texts = {}
    for service in SERVICES:
        try:
            texts[service] = render(service, errors)
        except (ModelError, KeyError, OSError) as e:
            errors.append('%s: %s' % (service, e))
    for e in errors:
        print('error:', e)
    if errors:
        return 1
    for service, text in texts.items():
        path = path_of(service)
        old = None
        if os.path.exists(path):
            with open(path, encoding='utf-8') as f:
                old = f.read()
        if old == text:
            continue
        if mode == '--write':
            with open(path, 'w', encoding='utf-8') as f:
                f.write(text)
            print('wrote', os.path.relpath(path, ROOT))
        else:
            stale.append(os.path.relpath(path, ROOT))
    if stale:
        print('out of date with the botocore models (run with --write):', ' '.join(stale))
        return 1
    if mode != '--write':
        print('ok: %d services, %d operations match botocore'
              % (len(SERVICES), sum(len(v[2]) for v in SERVICES.values())))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
