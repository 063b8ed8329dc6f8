import os, time
from alibabacloud_starrocks20221019.client import Client
from alibabacloud_starrocks20221019 import models as m
from alibabacloud_tea_openapi.utils_models import Config

client = Client(Config(
    access_key_id=os.environ['ALIBABA_CLOUD_ACCESS_KEY_ID'],
    access_key_secret=os.environ['ALIBABA_CLOUD_ACCESS_KEY_SECRET'],
    endpoint=os.environ.get('CLOUDTWIN_ENDPOINT', '127.0.0.1:8080'),  # host:port of cloudtwin
    protocol='http', region_id='cn-hangzhou'))

group = dict(cu=8, storage_size=100, storage_performance_level='pl1', disk_number=1,
             resident_node_number=3, spec_type='standard', zone_id='cn-hangzhou-i')
created = client.create_instance_v1(m.CreateInstanceV1Request(
    instance_name='c1', admin_password='password_example', version='3',
    run_mode='shared_data', region_id='cn-hangzhou', zone_id='cn-hangzhou-i',
    package_type='official', pay_type='prePaid', pricing_cycle='Month', duration=1,
    vpc_id='vpc-bp1fll2mci6d7pw8m****',
    v_switches=[m.CreateInstanceV1RequestVSwitches(vsw_id='vsw-bp19mlh98tm9teyyd****',
                                                   zone_id='cn-hangzhou-i')],
    frontend_node_groups=[m.CreateInstanceV1RequestFrontendNodeGroups(**group)],
    backend_node_groups=[m.CreateInstanceV1RequestBackendNodeGroups(**group)]))
instance_id = created.body.data.instance_id

for _ in range(600):  # poll until running
    found = client.describe_instances(m.DescribeInstancesRequest(instance_id=instance_id))
    status = found.body.data[0].instance_status
    if status == 'running':
        break
    time.sleep(0.5)
print(instance_id, status)

client.release_instance(m.ReleaseInstanceRequest(instance_id=instance_id))
