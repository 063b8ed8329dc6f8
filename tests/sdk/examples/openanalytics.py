import json, os, time
from alibabacloud_openanalytics_open20180619.client import Client
from alibabacloud_openanalytics_open20180619 import models as m
from alibabacloud_tea_openapi.utils_models import Config

client = Client(Config(
    access_key_id=os.environ['ALIBABA_CLOUD_ACCESS_KEY_ID'],
    access_key_secret=os.environ['ALIBABA_CLOUD_ACCESS_KEY_SECRET'],
    endpoint=os.environ.get('CLOUDTWIN_ENDPOINT', '127.0.0.1:9700'),  # host:port of cloudtwin
    protocol='http', region_id='cn-hangzhou'))

component = {'operable': 'false', 'max_cu': '8', 'instance_name': 'api-test-9', 'min_cu': '0',
             'engine': 'spark', 'region': 'cn-hangzhou', 'app_name': 'xx', 'app_version_name': 'xx'}
created = client.create_instance(m.CreateInstanceRequest(
    charge_type='POSTPAY', instance_type='CU_SPARK', region_id='cn-hangzhou',
    component=json.dumps(component)))
instance_id = created.body.result  # dla-...

# No describe call: while the instance lives, ValidateVirtualClusterName answers Legal "false"
# with "... used by instance dla-... (CU_SPARK, cn-hangzhou, <status>)."
for _ in range(600):  # poll until running
    data = client.validate_virtual_cluster_name(
        m.ValidateVirtualClusterNameRequest(vc_name='api-test-9')).body.data
    status = data.message.rstrip(').').rsplit(', ', 1)[-1]
    if data.legal == 'false' and instance_id in data.message and status == 'running':
        break
    time.sleep(0.5)
print(instance_id, status)

client.release_instance(m.ReleaseInstanceRequest(instance_id=instance_id, region_id='cn-hangzhou'))
