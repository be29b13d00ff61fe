from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="ImageTaskResponse")


@_attrs_define
class ImageTaskResponse:
    """
    Attributes:
        model (str | Unset): 此次调用使用的名称。
        id (str | Unset): 生成的任务`ID`，调用请求结果接口时使用此`ID`。
        request_id (str | Unset): 用户在客户端请求期间提交的任务编号或平台生成的任务编号。
        task_status (str | Unset): 处理状态，`PROCESSING (处理中)`、`SUCCESS (成功)`、`FAIL (失败)`。结果需要通过查询获取。
    """

    model: str | Unset = UNSET
    id: str | Unset = UNSET
    request_id: str | Unset = UNSET
    task_status: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        model = self.model

        id = self.id

        request_id = self.request_id

        task_status = self.task_status

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if model is not UNSET:
            field_dict["model"] = model
        if id is not UNSET:
            field_dict["id"] = id
        if request_id is not UNSET:
            field_dict["request_id"] = request_id
        if task_status is not UNSET:
            field_dict["task_status"] = task_status

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        model = d.pop("model", UNSET)

        id = d.pop("id", UNSET)

        request_id = d.pop("request_id", UNSET)

        task_status = d.pop("task_status", UNSET)

        image_task_response = cls(
            model=model,
            id=id,
            request_id=request_id,
            task_status=task_status,
        )

        image_task_response.additional_properties = d
        return image_task_response

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
