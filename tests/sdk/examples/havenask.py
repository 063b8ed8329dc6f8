import os, time
from alibabacloud_searchengine20211025.client import Client
from alibabacloud_searchengine20211025 import models as m
from alibabacloud_tea_openapi.utils_models import Config

client = Client(Config(
    access_key_id=os.environ['ALIBABA_CLOUD_ACCESS_KEY_ID'],
    access_key_secret=os.environ['ALIBABA_CLOUD_ACCESS_KEY_SECRET'],
    endpoint=os.environ.get('CLOUDTWIN_ENDPOINT', '127.0.0.1:9700'),  # host:port of cloudtwin
    protocol='http'))

components = dict(instance_type='vector', vpc_id='vpc-bp1fll2mci6d7pw8m0001',
                  vswitch='vsw-bp19mlh98tm9teyyd0001', qrs_resource='1')
created = client.create_instance(m.CreateInstanceRequest(
    charge_type='PREPAY',
    components=[m.CreateInstanceRequestComponents(code=k, value=v) for k, v in components.items()],
    order=m.CreateInstanceRequestOrder(auto_renew=True, duration=1, pricing_cycle='Month'),
    resource_group_id='rg-acfmxxx', tags=[m.CreateInstanceRequestTags(key='k1', value='v1')]))
instance_id = created.body.result.instance_id

for _ in range(600):  # poll until READY
    status = client.get_instance(instance_id).body.result.status
    if status == 'READY':
        break
    time.sleep(0.5)
print(instance_id, status)

client.delete_instance(instance_id)
