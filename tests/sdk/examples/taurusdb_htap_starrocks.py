import os, time
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.region.region import Region
from huaweicloudsdkgaussdb.v3 import GaussDBClient, model as m

url = 'http://' + os.environ.get('CLOUDTWIN_ENDPOINT', '127.0.0.1:9700')  # cloudtwin
creds = BasicCredentials(os.environ['HUAWEICLOUD_SDK_AK'], os.environ['HUAWEICLOUD_SDK_SK'])
client = GaussDBClient.new_builder().with_credentials(creds.with_iam_endpoint(url)) \
    .with_region(Region('cn-north-4', url)).build()  # looks up the project id of cn-north-4 in IAM

def wait(read, target):  # poll read() every 0.5 s (at most 5 minutes) until it returns target
    for _ in range(600):
        if read() == target:
            break
        time.sleep(0.5)

def job(job_id):
    return lambda: client.show_gauss_my_sql_job_info(m.ShowGaussMySqlJobInfoRequest(id=job_id)).job.status

parent = client.create_gauss_my_sql_instance(m.CreateGaussMySqlInstanceRequest(body=m.MysqlInstanceRequest(
    region='cn-north-4', name='taurus-parent', mode='Cluster', flavor_ref='gaussdb.mysql.xlarge.x86.4',
    datastore=m.MysqlDatastoreInReq(type='gaussdb-mysql', version='8.0'), password='Taurus-Pw0rd',
    vpc_id='3dda7d44-d8a4-4b19-a5a2-a9d3c1d2e001', subnet_id='b8b7c2a1-4f1e-4c6e-9f3f-4b5c6d7e8f90',
    availability_zone_mode='single', slave_count=1))).instance.id
wait(lambda: client.show_gauss_my_sql_instance_info(
    m.ShowGaussMySqlInstanceInfoRequest(instance_id=parent)).instance.status, 'ACTIVE')

created = client.create_starrocks_instance(m.CreateStarrocksInstanceRequest(
    instance_id=parent, body=m.StarRocksCreateRequest(
        name='htap-ff64', engine=m.StarRocksCreateRequestEngine(type='star-rocks', version='3.1'),
        ha=m.StarRocksCreateRequestHa(mode='Single'), db_root_pwd='Test@123!', fe_count=1, be_count=1,
        fe_flavor_id='afef3bfd-ac7c-32e1-ba44-c388acbb196a', time_zone='UTC+08:00',
        be_flavor_id='de565db8-0a96-37ea-9388-61167624712c',
        fe_volume=m.StarRocksCreateRequestFeVolume(io_type='SSD', capacity_in_gb=50),
        be_volume=m.StarRocksCreateRequestBeVolume(io_type='SSD', capacity_in_gb=50),
        az_mode='single', az_code='az', tags_info=m.StarRocksCreateRequestTagsInfo(sys_tags=[
            m.StarRocksCreateRequestTagsInfoSysTags(key='_sys_enterprise_project_id', value='0')]))))
wait(job(created.job_id), 'Completed')  # meanwhile the instance reads pending, then normal
print(created.instance.id, client.list_starrocks_instance_info(m.ListStarrocksInstanceInfoRequest(
    instance_id=parent, starrocks_instance_id=created.instance.id)).instances[0].status)

deleted = client.delete_starrocks_instance(
    m.DeleteStarrocksInstanceRequest(instance_id=parent, starrocks_instance_id=created.instance.id))
wait(job(deleted.workflow_id), 'Completed')  # the parent can go once it has no HTAP instance
client.delete_gauss_my_sql_instance(m.DeleteGaussMySqlInstanceRequest(instance_id=parent))
